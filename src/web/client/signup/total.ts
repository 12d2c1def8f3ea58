/** The purchase form's total, kept current as the buyer types (no wallet code: it runs before the wallet module loads). */
import type { SignupData } from "../../public/signup-data.ts";
import { usd } from "../../public/signup-data.ts";
import { daysFrom } from "../days.ts";
import { pageData } from "../page-basics.ts";

export function updateTotal(): void {
  const select = document.getElementById("plan-select") as HTMLSelectElement | null;
  const days = document.getElementById("days-input") as HTMLInputElement | null;
  const total = document.getElementById("total-cost");
  if (!select || !days || !total) return;
  const plan = pageData<SignupData>().plans.find((p) => String(p.id) === select.value);
  const n = daysFrom(days);
  total.textContent = plan && n ? usd(plan.price_cents_per_day * Number(n)) : "—";
}
