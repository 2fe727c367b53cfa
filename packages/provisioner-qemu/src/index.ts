// @slipway/provisioner-qemu public API. The provisioner itself comes in a later step of issue 8;
// the QMP client is usable on its own.
export * from './qmp/index.js';
