/**
 * What the schedules and queue triggers report, in the server's log: one line per slot fired or
 * message started (like the request log), warnings for what needs a look (dead letters, refused
 * slots, a lost connection). The runners log their own failures; these are their events.
 */
import type { ScheduleRunner } from '../schedules/runner.js';
import type { TriggerRunner } from '../triggers/runner.js';
import type { TriggerLogger } from '../triggers/trigger-engine.js';

export function logScheduleEvents(runner: ScheduleRunner, log: TriggerLogger): void {
  runner.on((event) => {
    switch (event.type) {
      case 'fired':
        if (event.created) log.info({ schedule: event.schedule, executionId: event.executionId }, 'schedule slot started');
        break;
      case 'skipped':
        log.info({ schedule: event.schedule, slotAt: new Date(event.slotAt).toISOString(), runningId: event.runningId }, 'schedule slot skipped: the previous run is still running');
        break;
      case 'missed':
        log.info({ schedule: event.schedule, count: event.count }, 'schedule slots missed while no process ran it');
        break;
      case 'cancelled-previous':
        log.info({ schedule: event.schedule, cancelledId: event.cancelledId }, 'schedule cancelled its previous run');
        break;
      case 'failed':
        log.warn({ schedule: event.schedule, slotAt: new Date(event.slotAt).toISOString(), code: event.code, reason: event.message }, 'schedule slot refused');
        break;
      default:
        break; // 'retrying' is logged by the runner; 'lost-race' is another process doing the work
    }
  });
}

export function logTriggerEvents(runner: TriggerRunner, log: TriggerLogger): void {
  runner.on((event) => {
    switch (event.type) {
      case 'ready':
        log.info({ trigger: event.trigger }, 'queue trigger connected');
        break;
      case 'started':
        if (event.created) log.info({ trigger: event.trigger, executionId: event.executionId }, 'queue message started an execution');
        break;
      case 'dead-lettered':
        log.warn({ trigger: event.trigger, code: event.code, reason: event.reason }, 'queue message dead-lettered');
        break;
      case 'paused':
      case 'resumed':
        log.info({ trigger: event.trigger, running: event.running }, `queue trigger ${event.type} (back-pressure)`);
        break;
      default:
        break; // 'disconnected' and 'retrying' are logged by the trigger; 'published' is routine
    }
  });
}
