// First-boot files are embedded in the binary as text (`with { type: "text" }`).
declare module "*.sh" {
  const text: string;
  export default text;
}
