/** `createApp`: config + container → core (createSlipway) → yoga. What main and embedders call. */

import { createSlipway, type Logger, type Slipway, type SlipwayStorage } from '@slipway/core';
import { isPoolProvisioner } from '@slipway/provisioner-pool';
import type { DependencyContainer } from 'tsyringe';
import type { ServerConfig } from './config.js';
import {
  createServerContainer,
  resolveCoreOptions,
  resolveProvisioners,
  type ServerContainerOptions,
  TOKENS,
} from './container.js';
import { createYogaApp, type SlipwayYoga } from './http.js';
import { buildSchema } from './schema/index.js';

export interface CreateAppOptions extends ServerContainerOptions {
  /** A container from createServerContainer with the embedder's own registrations; `provisioners` are added to it. */
  container?: DependencyContainer;
  /** Storage opened already (tests, `slipway serve`); default: what the config says. Not closed by close(). */
  database?: SlipwayStorage;
  /** Run this replica's background work (job loop, sweepers). Default true. */
  start?: boolean;
  /** The dashboard's built files, served at `/`; default packages/dashboard/dist, else the server's dist/dashboard. */
  dashboardDir?: string;
}

export interface App {
  yoga: SlipwayYoga;
  slipway: Slipway;
  container: DependencyContainer;
  logger: Logger;
  /** Stops background work and closes the core (and the database, and so the PGlite data-dir lock, if it opened it). */
  close(): Promise<void>;
}

export async function createApp(config: ServerConfig, options: CreateAppOptions = {}): Promise<App> {
  const container = options.container ?? createServerContainer(config, options);
  if (options.container)
    for (const p of options.provisioners ?? []) container.register(TOKENS.Provisioner, { useValue: p });
  const logger = container.resolve(TOKENS.Logger);
  const slipway = await createSlipway({
    ...resolveCoreOptions(container),
    database: options.database ?? config.database,
  });
  try {
    if (options.start !== false) await slipway.start();
  } catch (error) {
    await slipway.close();
    throw error;
  }
  container.register(TOKENS.Slipway, { useValue: slipway });
  // Pools keep a plugin-local admin view; the server finds them by their brand, not by a cast.
  const pools = new Map(resolveProvisioners(container).flatMap((p) => (isPoolProvisioner(p) ? [[p.name, p]] : [])));
  const yoga = createYogaApp({
    schema: buildSchema(),
    slipway,
    config,
    logger,
    pools,
    ...(options.dashboardDir ? { dashboardDir: options.dashboardDir } : {}),
  });
  let closed: Promise<void> | undefined;
  return {
    yoga,
    slipway,
    container,
    logger,
    close: () => {
      closed ??= (async () => {
        await yoga.dispose();
        await slipway.close();
      })();
      return closed;
    },
  };
}
