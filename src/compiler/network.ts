/**
 * Shared, only with `network: create`: a minimal VPC with two public subnets in two AZs, an internet
 * gateway and a security group that allows egress only. No NAT gateway (it costs by the hour): tasks get a
 * public IP to pull images and reach AWS APIs.
 */
import { type CfnValue, getAtt, type Resources, ref } from './cfn.js';
import type { CompileContext } from './context.js';
import { logicalIds } from './naming.js';

export interface TaskNetwork {
  subnets: CfnValue[];
  securityGroups: CfnValue[];
  assignPublicIp: boolean;
}

export function taskNetwork(ctx: CompileContext): TaskNetwork {
  const n = ctx.config.network;
  if (n === 'create') {
    return {
      subnets: [ref(logicalIds.subnet(0)), ref(logicalIds.subnet(1))],
      securityGroups: [getAtt(logicalIds.securityGroup, 'GroupId')],
      assignPublicIp: true,
    };
  }
  return { subnets: n.subnets, securityGroups: n.securityGroups, assignPublicIp: n.assignPublicIp };
}

export function compileNetwork(ctx: CompileContext): Resources {
  if (ctx.config.network !== 'create') return {};
  const tags = [{ Key: 'Name', Value: ctx.names.base }];
  const resources: Resources = {
    [logicalIds.vpc]: {
      Type: 'AWS::EC2::VPC',
      Properties: { CidrBlock: '10.42.0.0/16', EnableDnsHostnames: true, EnableDnsSupport: true, Tags: tags },
    },
    [logicalIds.internetGateway]: { Type: 'AWS::EC2::InternetGateway', Properties: { Tags: tags } },
    [logicalIds.gatewayAttachment]: {
      Type: 'AWS::EC2::VPCGatewayAttachment',
      Properties: { VpcId: ref(logicalIds.vpc), InternetGatewayId: ref(logicalIds.internetGateway) },
    },
    [logicalIds.routeTable]: {
      Type: 'AWS::EC2::RouteTable',
      Properties: { VpcId: ref(logicalIds.vpc), Tags: tags },
    },
    [logicalIds.defaultRoute]: {
      Type: 'AWS::EC2::Route',
      DependsOn: [logicalIds.gatewayAttachment],
      Properties: {
        RouteTableId: ref(logicalIds.routeTable),
        DestinationCidrBlock: '0.0.0.0/0',
        GatewayId: ref(logicalIds.internetGateway),
      },
    },
    [logicalIds.securityGroup]: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: `berth ${ctx.names.base} tasks: egress only`,
        VpcId: ref(logicalIds.vpc),
        SecurityGroupEgress: [{ IpProtocol: '-1', CidrIp: '0.0.0.0/0', Description: 'all egress' }],
        Tags: tags,
      },
    },
  };
  for (const i of [0, 1]) {
    resources[logicalIds.subnet(i)] = {
      Type: 'AWS::EC2::Subnet',
      Properties: {
        VpcId: ref(logicalIds.vpc),
        CidrBlock: `10.42.${i * 16}.0/20`,
        AvailabilityZone: { 'Fn::Select': [i, { 'Fn::GetAZs': '' }] },
        MapPublicIpOnLaunch: false,
        Tags: tags,
      },
    };
    resources[logicalIds.subnetRouteTable(i)] = {
      Type: 'AWS::EC2::SubnetRouteTableAssociation',
      Properties: { SubnetId: ref(logicalIds.subnet(i)), RouteTableId: ref(logicalIds.routeTable) },
    };
  }
  return resources;
}
