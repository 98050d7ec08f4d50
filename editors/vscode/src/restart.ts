/**
 * When to restart a server that stopped: always, unless it keeps stopping.
 *
 * Pure (no `vscode` import) so the node tests can check it.
 */

export class RestartPolicy {
  private readonly stops: number[] = [];

  /**
   * @param maxRestarts - more stops than this within `windowMs` means a restart will not help
   * @param windowMs - how far back stops count
   */
  constructor(
    readonly maxRestarts = 5,
    readonly windowMs = 3 * 60 * 1000,
  ) {}

  /** Records a stop at `now` and says whether to restart. */
  shouldRestart(now: number): boolean {
    this.stops.push(now);
    while (this.stops.length > 0 && now - this.stops[0] > this.windowMs) {
      this.stops.shift();
    }
    return this.stops.length <= this.maxRestarts;
  }

  /** Stops within the window, as of the last call. */
  get recentStops(): number {
    return this.stops.length;
  }

  /** A restart by hand starts the count afresh. */
  reset(): void {
    this.stops.length = 0;
  }
}
