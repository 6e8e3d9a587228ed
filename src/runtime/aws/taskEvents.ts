/** The ECS "Task State Change" event as berth reads it, and the stop report built from it. */
import type { StopReport } from '../ports.js';

export interface EcsContainerDetail {
  name?: string;
  exitCode?: number | null;
  reason?: string | null;
  lastStatus?: string;
}

export interface EcsTaskDetail {
  taskArn: string;
  clusterArn?: string;
  /** `arn:…:task-definition/<family>:<revision>`. */
  taskDefinitionArn?: string;
  /** `service:<name>` for a service's task; RunTask's `group` otherwise (`berth:<job>`). */
  group?: string;
  lastStatus?: string;
  desiredStatus?: string;
  startedBy?: string;
  stopCode?: string;
  stoppedReason?: string;
  createdAt?: string;
  pullStartedAt?: string;
  startedAt?: string;
  stoppedAt?: string;
  executionStoppedAt?: string;
  updatedAt?: string;
  capacityProviderName?: string;
  containers?: EcsContainerDetail[];
  overrides?: { containerOverrides?: { name?: string; environment?: { name?: string; value?: string }[] }[] };
  version?: number;
}

export interface EcsTaskStateChangeEvent {
  source: string;
  'detail-type': string;
  time?: string;
  detail: EcsTaskDetail;
}

export function isTaskStateChange(event: unknown): event is EcsTaskStateChangeEvent {
  const e = event as Partial<EcsTaskStateChangeEvent> | null;
  return (
    !!e &&
    e.source === 'aws.ecs' &&
    e['detail-type'] === 'ECS Task State Change' &&
    typeof e.detail?.taskArn === 'string'
  );
}

/** `BERTH_*` variables the launcher put into the container overrides. */
export function overrideEnv(detail: EcsTaskDetail, container?: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const o of detail.overrides?.containerOverrides ?? []) {
    if (container && o.name && o.name !== container) continue;
    for (const v of o.environment ?? []) if (v.name && v.value !== undefined) env[v.name] = v.value;
  }
  return env;
}

/**
 * The stop report of a STOPPED task. Only essential containers count: berth's task definitions have one
 * essential container (the manifest names it); when it is absent from the event, every container is read.
 */
export function stopReportFrom(
  detail: EcsTaskDetail,
  runId: string,
  attempt: number,
  essentialContainer: string | undefined,
  fallbackStoppedAt: string,
): StopReport {
  const all = detail.containers ?? [];
  const essential = essentialContainer ? all.filter((c) => c.name === essentialContainer) : [];
  const containers = (essential.length ? essential : all).map((c) => ({
    name: c.name,
    exitCode: typeof c.exitCode === 'number' ? c.exitCode : null,
    reason: c.reason ?? null,
  }));
  return {
    runId,
    attempt,
    taskArn: detail.taskArn,
    startedAt: detail.startedAt ?? null,
    stoppedAt: detail.stoppedAt ?? detail.executionStoppedAt ?? detail.updatedAt ?? fallbackStoppedAt,
    billedFrom: detail.pullStartedAt ?? detail.startedAt ?? null,
    containers,
    stopCode: detail.stopCode ?? null,
    stoppedReason: detail.stoppedReason ?? null,
  };
}
