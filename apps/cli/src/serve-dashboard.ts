/**
 * The lifetime of `synod dashboard`, whatever its source (the in-process demo cluster, or member
 * processes): start the source, serve the page, stop on Ctrl-C, SIGTERM or after `durationMs`
 * (a second signal exits at once), and close everything in order.
 */
import { startDashboard, type DashboardSource } from '@synod/dashboard';
import { EXIT, UsageError, type CommandContext } from './command.js';
import { seconds } from './demo/view.js';

/** A dashboard source with a start and an end. */
export interface ServedSource extends DashboardSource {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServeOptions extends Pick<CommandContext, 'stdout' | 'stderr'> {
  port: number;
  durationMs: number | null;
  /** What a failed `source.start()` means, e.g. `could not connect to the cluster`; absent: reported as any other failure. */
  startFailure?: string;
  /** Called once the page is served. */
  serving?: () => void;
}

/** Serves `source` until stopped; returns the exit status. */
export async function serveDashboard(source: ServedSource, o: ServeOptions): Promise<number> {
  const { stdout, stderr, port, durationMs } = o;
  let dashboard: Awaited<ReturnType<typeof startDashboard>> | null = null;
  let finish = () => {};
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    finish();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      await source.start();
    } catch (e) {
      if (o.startFailure === undefined) throw e;
      stderr(`synod dashboard: ${o.startFailure}: ${(e as Error).message}\n`);
      return EXIT.failed;
    }
    try {
      dashboard = await startDashboard({ source, port });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use; choose another with --port, or leave it out for a free one`);
      throw e;
    }
    o.serving?.();
    stdout(`dashboard: ${dashboard.url}\n`);
    stdout(durationMs === null ? 'Press Ctrl-C to stop.\n' : `Stopping in ${seconds(durationMs)} (or on Ctrl-C).\n`);
    if (durationMs !== null) setTimeout(finish, durationMs).unref();
    await ended;
    stdout('stopping...\n');
    return EXIT.ok;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    stderr(`synod dashboard: ${(e as Error).message}\n`);
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await dashboard?.close();
    await source.stop().catch(() => {});
  }
}
