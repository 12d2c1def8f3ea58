/** Follows a lifecycle job on its page: the status line changes as the engine runs the job (SSE). */
interface JobView {
  state: "queued" | "running" | "done" | "failed";
  error: string | null;
}

const line = document.getElementById("job-status");
const url = line?.dataset.events;
if (line && url && !/ok|error/.test(line.className)) {
  const label = line.dataset.label ?? "";
  const events = new EventSource(url);
  events.addEventListener("job", (e) => {
    const job = JSON.parse((e as MessageEvent<string>).data) as JobView;
    if (job.state === "done") {
      line.className = "ok";
      line.textContent = `${label}: done`;
    } else if (job.state === "failed") {
      line.className = "error";
      line.textContent = `${label} failed: ${job.error}`;
    } else line.textContent = `${label}: ${job.state}…`;
    if (job.state === "done" || job.state === "failed") events.close();
  });
}
