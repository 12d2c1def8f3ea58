// Stylesheets a browser bundle embeds as text (`with { type: "text" }`), e.g. xterm.js's.
declare module "*.css" {
  const text: string;
  export default text;
}
