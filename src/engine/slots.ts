/** The VM-create bound: at most `limit` creates at once, and few enough jobs claimed ahead of them. */
export class CreateSlots {
  private held = 0;
  private readonly queue: Array<() => void> = [];
  /** Jobs claimed that have not yet passed their create step. */
  private ahead = 0;

  constructor(readonly limit: number) {}

  /**
   * Whether the provision lane may claim another job: as many may wait as there are slots, so a
   * slow hypervisor holds few jobs "running" while jobs past their create (minting) are not held up.
   */
  get claimable(): boolean {
    return this.ahead < 2 * this.limit;
  }

  /** Count a claimed job as ahead of its create; the returned release ends that (true the first time only). */
  claim(): () => boolean {
    this.ahead++;
    let released = false;
    return () => {
      if (released) return false;
      released = true;
      this.ahead--;
      return true;
    };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.held >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.held++;
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.held--;
    }
  }
}
