/**
 * What the server calls at start-up: the QEMU provisioner from the JSON file named by
 * SLIPWAY_QEMU_CONFIG, or nothing when it is unset. A bad file stops start-up with
 * CONFIG_INVALID naming the variable and the field.
 */
import { readFileSync } from 'node:fs';
import { errorMessage, isSlipwayError, SlipwayError } from '@slipway/core';
import { type QemuProvisioner, qemuProvisioner } from './qemu-provisioner.js';

export const QEMU_CONFIG_VARIABLE = 'SLIPWAY_QEMU_CONFIG';

export function qemuProvisionerFromEnv(env: NodeJS.ProcessEnv = process.env): QemuProvisioner | undefined {
  const path = env.SLIPWAY_QEMU_CONFIG?.trim();
  if (!path) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw configInvalid(`cannot read ${path} as JSON (${errorMessage(error)})`);
  }
  try {
    return qemuProvisioner(raw as Parameters<typeof qemuProvisioner>[0]);
  } catch (error) {
    if (isSlipwayError(error) && error.code === 'VALIDATION_FAILED') throw configInvalid(`${path}: ${error.message}`);
    throw error;
  }
}

function configInvalid(problem: string): SlipwayError {
  return new SlipwayError('CONFIG_INVALID', `${QEMU_CONFIG_VARIABLE}: ${problem}`, {
    details: { variable: QEMU_CONFIG_VARIABLE },
  });
}
