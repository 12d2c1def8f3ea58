/** Whole days 1..3650 from an input, or null (the signup page's purchase and every extend field). */
export function daysFrom(input: HTMLInputElement): bigint | null {
  return /^[1-9]\d{0,3}$/.test(input.value) && Number(input.value) <= 3650 ? BigInt(input.value) : null;
}
