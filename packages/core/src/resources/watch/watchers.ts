/**
 * The provisioners' watchers on this replica: started with the core's workers for every
 * registered provisioner with the `watch` capability, closed when they stop. A watcher that
 * fails to start is logged and raised as a critical system event; the others still run.
 */
import { errorMessage } from '../../errors.js';
import type { EventService } from '../../events/event-service.js';
import type { MachineReport, WatchHandle } from '../../provisioner/capabilities.js';
import type { Logger } from '../../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../../provisioner/registry.js';

export type ReportFn = (provisioner: string, resourceId: string, report: MachineReport) => Promise<void>;

export class Watchers {
  readonly #handles: WatchHandle[] = [];
  readonly #d: { registry: ProvisionerRegistry; eventService: EventService; logger: Logger };
  readonly #report: ReportFn;
  #controller: AbortController | undefined;

  constructor(deps: { registry: ProvisionerRegistry; eventService: EventService; logger: Logger }, report: ReportFn) {
    this.#d = deps;
    this.#report = report;
  }

  /** Start every watcher once; a second call is a no-op until `stop`. */
  async start(): Promise<void> {
    if (this.#controller) return;
    const controller = new AbortController();
    this.#controller = controller;
    for (const runtime of this.#d.registry.list().filter((r) => r.has('watch'))) {
      const report = (resourceId: string, r: MachineReport) =>
        this.#report(runtime.name, resourceId, r).catch((error: unknown) => {
          this.#d.logger.warn('watch report not applied', {
            provisioner: runtime.name,
            resourceId,
            error: errorMessage(error),
          });
          throw error; // the watcher may report again
        });
      try {
        this.#handles.push(await runtime.watch(report, controller.signal));
      } catch (error) {
        this.#d.logger.error('watcher did not start', { provisioner: runtime.name, error: errorMessage(error) });
        await this.#d.eventService
          .append({
            type: 'system',
            action: 'provisioner.watch_failed',
            severity: 'critical',
            data: { provisioner: runtime.name, error: errorMessage(error) },
          })
          .catch(() => {});
      }
    }
  }

  /** Abort and close every watcher (a close that fails is logged). */
  async stop(): Promise<void> {
    this.#controller?.abort(new Error('watchers stopping'));
    this.#controller = undefined;
    const handles = this.#handles.splice(0);
    const closed = await Promise.allSettled(handles.map((h) => h.close()));
    for (const c of closed) {
      if (c.status === 'rejected') this.#d.logger.warn('watcher did not close', { error: errorMessage(c.reason) });
    }
  }
}
