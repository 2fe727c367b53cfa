import { pgliteTemplateSetup } from '@slipway/core/testing';

export default pgliteTemplateSetup;
