/** Form pieces every server-rendered page shares (wizard, admin): a labelled field, radio choice, checkbox, select. */

export function Field(props: {
  name: string;
  label: string;
  value?: string | number | undefined;
  type?: string;
  hint?: string | undefined;
  required?: boolean;
}) {
  return (
    <>
      <label for={props.name}>{props.label}</label>
      <input
        id={props.name}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value === undefined ? "" : String(props.value)}
        required={props.required}
      />
      {props.hint && <p class="muted">{props.hint}</p>}
    </>
  );
}

/** One radio button of a group (`name`), labelled. */
export function Choice(props: { name: string; value: string; label: string; checked: boolean }) {
  const id = `${props.name}-${props.value}`;
  return (
    <label for={id}>
      <input type="radio" id={id} name={props.name} value={props.value} checked={props.checked} /> {props.label}
    </label>
  );
}

export function Check(props: { name: string; label: string; checked: boolean }) {
  return (
    <label for={props.name}>
      <input type="checkbox" id={props.name} name={props.name} checked={props.checked} /> {props.label}
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
  return (
    <>
      <label for={props.name}>{props.label}</label>
      <select id={props.name} name={props.name}>
        {props.empty !== undefined && <option value="">{props.empty}</option>}
        {props.options.map((o) => (
          <option value={o.value} selected={props.selected === o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </>
  );
}
