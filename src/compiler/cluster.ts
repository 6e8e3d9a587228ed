/** Shared: berth's ECS cluster with the FARGATE and FARGATE_SPOT capacity providers (unless one is given). */
import { type Resources, ref } from './cfn.js';
import type { CompileContext } from './context.js';
import { logicalIds } from './naming.js';

export function compileCluster(ctx: CompileContext): Resources {
  if (ctx.config.cluster !== 'create') return {};
  return {
    [logicalIds.cluster]: {
      Type: 'AWS::ECS::Cluster',
      Properties: {
        ClusterName: ctx.names.cluster,
        ClusterSettings: [{ Name: 'containerInsights', Value: 'disabled' }],
      },
    },
    [logicalIds.clusterCapacityProviders]: {
      Type: 'AWS::ECS::ClusterCapacityProviderAssociations',
      Properties: {
        Cluster: ref(logicalIds.cluster),
        CapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        // The launcher always passes a strategy; the default only matters for tasks started by hand.
        DefaultCapacityProviderStrategy: [{ CapacityProvider: 'FARGATE', Weight: 1 }],
      },
    },
  };
}
