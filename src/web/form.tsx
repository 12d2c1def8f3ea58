/** Form pieces every server-rendered page shares (wizard, admin): a labelled field, radio choice, checkbox, select. */
import { createContext, useContext } from "hono/jsx";

/**
 * The values a refused form was posted with. A form re-rendered inside `<Submitted.Provider value={form}>`
 * shows what the user typed, not the stored values, so bad input loses nothing.
 */
export const Submitted = createContext<Record<string, string> | undefined>(undefined);

export function Field(props: {
  name: string;
  label: string;
  value?: string | number | undefined;
  type?: string;
  hint?: string | undefined;
  required?: boolean;
}) {
  const posted = useContext(Submitted);
  // A password is never sent back to the browser.
  const value = posted && props.type !== "password" ? posted[props.name] : props.value;
  return (
    <>
      <label for={props.name}>{props.label}</label>
      <input
        id={props.name}
        name={props.name}
        type={props.type ?? "text"}
        value={value === undefined ? "" : String(value)}
        required={props.required}
      />
      {props.hint && <p class="muted">{props.hint}</p>}
    </>
  );
}

/** One radio button of a group (`name`), labelled. */
export function Choice(props: { name: string; value: string; label: string; checked: boolean }) {
  const id = `${props.name}-${props.value}`;
  const posted = useContext(Submitted);
  const checked = posted ? posted[props.name] === props.value : props.checked;
  return (
    <label for={id}>
      <input type="radio" id={id} name={props.name} value={props.value} checked={checked} /> {props.label}
    </label>
  );
}

export function Check(props: { name: string; label: string; checked: boolean }) {
  const posted = useContext(Submitted);
  const checked = posted ? posted[props.name] === "on" : props.checked;
  return (
    <label for={props.name}>
      <input type="checkbox" id={props.name} name={props.name} checked={checked} /> {props.label}
    </label>
  );
}

/** A labelled select; `empty` adds a first option with value "" (e.g. "(keep the current layout)"). */
export function Select(props: {
  name: string;
  label: string;
  options: Array<{ value: string; label: string }>;
  selected?: string | undefined;
  empty?: string;
}) {
  const posted = useContext(Submitted);
  const selected = posted ? posted[props.name] : props.selected;
  return (
    <>
      <label for={props.name}>{props.label}</label>
      <select id={props.name} name={props.name}>
        {props.empty !== undefined && <option value="">{props.empty}</option>}
        {props.options.map((o) => (
          <option value={o.value} selected={selected === o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </>
  );
}
