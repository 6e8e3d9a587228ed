import { type CfnValue, getAtt, ref } from './cfn.js';
import type { BerthConfig } from './config.js';
import { createNames, logicalIds, type Names } from './naming.js';

/** What every compile step may refer to: names, the config and the shared resources' references. */
export interface CompileContext {
  names: Names;
  config: BerthConfig;
  clusterArn: CfnValue;
  /** Cluster name as it appears in task ARNs (`task/<cluster>/<id>`). */
  clusterName: CfnValue;
  launchQueueArn: CfnValue;
  launchQueueUrl: CfnValue;
  executionRoleArn: CfnValue;
  schedulerRoleArn: CfnValue;
  launcherFunctionArn: CfnValue;
}

export function createContext(config: BerthConfig, service: string, stage: string): CompileContext {
  const names = createNames(service, stage);
  const existing = config.cluster === 'create' ? undefined : config.cluster;
  return {
    names,
    config,
    clusterArn: existing ?? getAtt(logicalIds.cluster, 'Arn'),
    clusterName: existing
      ? existing.slice(existing.indexOf(':cluster/') + ':cluster/'.length)
      : ref(logicalIds.cluster),
    launchQueueArn: getAtt(logicalIds.launchQueue, 'Arn'),
    launchQueueUrl: ref(logicalIds.launchQueue),
    executionRoleArn: getAtt(logicalIds.executionRole, 'Arn'),
    schedulerRoleArn: getAtt(logicalIds.schedulerRole, 'Arn'),
    launcherFunctionArn: getAtt(logicalIds.function('launcher'), 'Arn'),
  };
}
