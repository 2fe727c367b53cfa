/**
 * Every GraphQL document the RunPod client sends, typed by gql.tada against
 * graphql/runpod.graphql (`npm run generate:runpod -w @slipway/provisioner-cloud` after
 * editing the schema). test/runpod/documents.test.ts validates each one against the schema.
 */
import { initGraphQLTada, type ResultOf } from 'gql.tada';
import type { introspection } from './generated/graphql-env.js';

// Masking off: the client reads pod fields straight from every result that spreads PodFields.
export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { Void: null };
  disableMasking: true;
}>();

export const PodFields = graphql(`
  fragment PodFields on Pod {
    id
    name
    desiredStatus
    imageName
    env
    costPerHr
    gpuCount
    podType
    machineId
    runtime {
      uptimeInSeconds
      ports {
        ip
        isIpPublic
        privatePort
        publicPort
        type
      }
    }
  }
`);

export type PodView = ResultOf<typeof PodFields>;

export const MyPodsQuery = graphql(
  `
  query MyPods {
    myself {
      pods {
        ...PodFields
      }
    }
  }
`,
  [PodFields],
);

export const PodQuery = graphql(
  `
  query Pod($podId: String!) {
    pod(input: { podId: $podId }) {
      ...PodFields
    }
  }
`,
  [PodFields],
);

export const DeployOnDemandMutation = graphql(
  `
  mutation DeployOnDemand($input: PodFindAndDeployOnDemandInput!) {
    podFindAndDeployOnDemand(input: $input) {
      ...PodFields
    }
  }
`,
  [PodFields],
);

export const RentInterruptableMutation = graphql(
  `
  mutation RentInterruptable($input: PodRentInterruptableInput!) {
    podRentInterruptable(input: $input) {
      ...PodFields
    }
  }
`,
  [PodFields],
);

export const PodStopMutation = graphql(`
  mutation PodStop($podId: String!) {
    podStop(input: { podId: $podId }) {
      id
      desiredStatus
    }
  }
`);

export const PodResumeMutation = graphql(`
  mutation PodResume($podId: String!, $gpuCount: Int!) {
    podResume(input: { podId: $podId, gpuCount: $gpuCount }) {
      id
      desiredStatus
    }
  }
`);

export const PodBidResumeMutation = graphql(`
  mutation PodBidResume($podId: String!, $gpuCount: Int!, $bidPerGpu: Float!) {
    podBidResume(input: { podId: $podId, gpuCount: $gpuCount, bidPerGpu: $bidPerGpu }) {
      id
      desiredStatus
    }
  }
`);

export const PodTerminateMutation = graphql(`
  mutation PodTerminate($podId: String!) {
    podTerminate(input: { podId: $podId })
  }
`);

/** Every document, for the schema check. */
export const ALL_DOCUMENTS = {
  PodFields,
  MyPodsQuery,
  PodQuery,
  DeployOnDemandMutation,
  RentInterruptableMutation,
  PodStopMutation,
  PodResumeMutation,
  PodBidResumeMutation,
  PodTerminateMutation,
} as const;
