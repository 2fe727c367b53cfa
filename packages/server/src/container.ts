/**
 * The composition root: the only place that uses tsyringe (core stays decorator-free).
 * Everything is registered with useValue/useFactory, so no emitDecoratorMetadata is needed.
 * Embedders add provisioners by registering more values under TOKENS.Provisioner.
 */
import 'reflect-metadata';
import { consoleLogger, demoProvisioner, type Logger, type Provisioner, type Slipway } from '@slipway/core';
import { poolProvisionerFromEnv } from '@slipway/provisioner-pool';
import { container, type DependencyContainer, type InjectionToken, instanceCachingFactory } from 'tsyringe';
import type { ServerConfig } from './config.js';

export const TOKENS = {
  Config: Symbol('Config') as InjectionToken<ServerConfig>,
  /** Registered many times: one registration per provisioner. */
  Provisioner: Symbol('Provisioner') as InjectionToken<Provisioner>,
  /** Registered by createApp once the core is up (creating it is async). */
  Slipway: Symbol('Slipway') as InjectionToken<Slipway>,
  Logger: Symbol('Logger') as InjectionToken<Logger>,
} as const;

export interface ServerContainerOptions {
  provisioners?: Provisioner[];
  /** Where the pool provisioner reads VM_POOL_JSON / VM_POOL_FILE (default process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export function createServerContainer(config: ServerConfig, options: ServerContainerOptions = {}): DependencyContainer {
  const c = container.createChildContainer();
  c.register(TOKENS.Config, { useValue: config });
  c.register(TOKENS.Logger, {
    useFactory: instanceCachingFactory(() => options.logger ?? consoleLogger(config.logLevel)),
  });
  // persistent: demo machines live in the database, so they survive a restart like real ones.
  if (config.provisionerDemo) c.register(TOKENS.Provisioner, { useValue: demoProvisioner({ persistent: true }) });
  // A pool from VM_POOL_JSON / VM_POOL_FILE, or the demo pool in demo mode; a bad pool stops start-up.
  const pool = poolProvisionerFromEnv(options.env ?? process.env, { demo: config.provisionerDemo });
  if (pool) c.register(TOKENS.Provisioner, { useValue: pool });
  for (const p of options.provisioners ?? []) c.register(TOKENS.Provisioner, { useValue: p });
  return c;
}

/** Every provisioner registered on `c` (or its parents); none is not an error. */
export function resolveProvisioners(c: DependencyContainer): Provisioner[] {
  return c.isRegistered(TOKENS.Provisioner, true) ? c.resolveAll(TOKENS.Provisioner) : [];
}
