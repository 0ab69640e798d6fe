import { hostLine, type HostLog } from './invokeFunction';
import type { TimerSchedule } from './timerSchedule';
import type { RegisteredFunction, RpcTypedData } from './types';

export interface TimerListenerOptions {
  fn: RegisteredFunction;
  schedule: TimerSchedule;
  runOnStartup: boolean;
  /** Keep ScheduleStatus (in memory here; the host persists it in azure-webjobs-hosts). */
  useMonitor: boolean;
  adjustForDST: boolean;
  invoke(fn: RegisteredFunction, timer: RpcTypedData, reason: string): Promise<void>;
  log: HostLog;
}

export interface TimerListener {
  /** The next scheduled occurrence. */
  readonly next: Date;
  /** One extra run now (admin API), with the same Timer object shape. */
  runNow(reason: string): Promise<void>;
  stop(): Promise<void>;
}

/** Longest single setTimeout; longer waits are chained. */
const MAX_WAIT_MS = 60 * 60 * 1000;
const NEVER = '0001-01-01T00:00:00';

/**
 * One timer trigger. Runs never overlap: the next occurrence is computed after a run completes,
 * as the host's TimerListener does, so occurrences that pass during a long run are skipped (the
 * host's singleton listener lock gives the same result across instances; here it is one process).
 */
export function startTimerListener(options: TimerListenerOptions): TimerListener {
  const { fn, schedule } = options;
  let stopped = false;
  let timeout: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let last: Date | undefined;
  let next = schedule.next(new Date());

  const payload = (isPastDue: boolean): RpcTypedData => ({
    json: JSON.stringify({
      Schedule: { AdjustForDST: options.adjustForDST },
      ScheduleStatus: options.useMonitor ? { Last: last ? last.toISOString() : NEVER, Next: next.toISOString(), LastUpdated: new Date().toISOString() } : null,
      IsPastDue: isPastDue,
    }),
  });

  const run = async (reason: string): Promise<void> => {
    const started = new Date();
    try {
      await options.invoke(fn, payload(false), reason);
    } catch {
      // Logged by the invoker; a failed timer run is not retried (no retry options).
    } finally {
      last = started;
    }
  };

  const arm = () => {
    if (stopped) return;
    const wait = Math.min(Math.max(0, next.getTime() - Date.now()), MAX_WAIT_MS);
    timeout = setTimeout(() => {
      if (stopped) return;
      if (Date.now() < next.getTime()) return arm();
      const due = next;
      running = run(`Timer fired at ${due.toISOString()}`).then(() => {
        running = undefined;
        next = schedule.next(new Date(Math.max(Date.now(), due.getTime())));
        arm();
      });
    }, wait);
  };

  options.log(hostLine(`Function '${fn.name}': ${schedule.description}, next occurrence ${next.toISOString()}`));
  if (options.runOnStartup) {
    running = run('Timer fired at startup (runOnStartup)').then(() => {
      running = undefined;
      next = schedule.next(new Date());
      arm();
    });
  } else arm();

  return {
    get next() {
      return next;
    },
    runNow: (reason) => run(reason),
    async stop() {
      stopped = true;
      if (timeout) clearTimeout(timeout);
      await running;
    },
  };
}
