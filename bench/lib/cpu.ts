/**
 * CPU cost per unit of work: the CPU time of the whole process (every thread, workers included:
 * `process.cpuUsage()` is getrusage(RUSAGE_SELF) on Linux) spent between start and now, divided
 * by the work done. Unlike throughput it does not depend on how many cores the machine lends,
 * so it shows what a protocol costs even on a shared machine.
 *
 *     const cpu = new CpuMeter();            // just before the measured interval
 *     ... commit `commands` commands ...
 *     results.add('workers.r5.cpu_us_per_command', 'us', cpu.usPer(commands));
 *
 * Measure in the process that hosts the workers (the suite's main thread), and keep set-up and
 * shutdown outside the interval.
 */

/** CPU time of this process since construction or the last {@link CpuMeter.restart}. */
export class CpuMeter {
  private start = process.cpuUsage();

  /** Starts counting again from now. */
  restart(): void {
    this.start = process.cpuUsage();
  }

  /** User + system CPU time of all threads since the start, in microseconds. */
  elapsedUs(): number {
    const d = process.cpuUsage(this.start);
    return d.user + d.system;
  }

  /**
   * CPU microseconds per unit of work since the start.
   * @throws RangeError when `count` is not positive: a cost per nothing would be a made-up number.
   */
  usPer(count: number): number {
    if (!(count > 0)) throw new RangeError(`CpuMeter.usPer: the work done must be positive, got ${count}`);
    return this.elapsedUs() / count;
  }
}
