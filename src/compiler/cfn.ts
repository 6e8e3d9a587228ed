/**
 * CloudFormation template shapes and intrinsic-function helpers. Templates are built as objects, never
 * strings; every value that CloudFormation resolves at deploy time goes through these helpers.
 */

export type CfnValue = string | number | boolean | CfnValue[] | { [key: string]: CfnValue };

export interface CfnResource {
  Type: string;
  Properties?: Record<string, CfnValue>;
  DependsOn?: string[];
  DeletionPolicy?: 'Delete' | 'Retain';
  UpdateReplacePolicy?: 'Delete' | 'Retain';
  Metadata?: Record<string, CfnValue>;
}

export type Resources = Record<string, CfnResource>;

export interface CfnParameter {
  Type: 'String';
  Description?: string;
  Default?: string;
  AllowedPattern?: string;
  ConstraintDescription?: string;
}

export interface Template {
  AWSTemplateFormatVersion: '2010-09-09';
  Description?: string;
  Metadata?: Record<string, CfnValue>;
  Parameters?: Record<string, CfnParameter>;
  Resources: Resources;
  Outputs?: Record<string, { Description?: string; Value: CfnValue; Export?: { Name: CfnValue } }>;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: CfnValue[];
  Condition?: Record<string, Record<string, CfnValue>>;
}

export const ref = (logicalId: string): CfnValue => ({ Ref: logicalId });
export const getAtt = (logicalId: string, attribute: string): CfnValue => ({
  'Fn::GetAtt': [logicalId, attribute],
});
export const sub = (text: string, vars?: Record<string, CfnValue>): CfnValue =>
  vars ? { 'Fn::Sub': [text, vars] } : { 'Fn::Sub': text };
export const join = (sep: string, parts: CfnValue[]): CfnValue => ({ 'Fn::Join': [sep, parts] });

/** `arn:${AWS::Partition}:<service>:${AWS::Region}:${AWS::AccountId}:<rest>` */
export const arn = (
  service: string,
  rest: string,
  opts: { region?: boolean; account?: boolean } = {},
): CfnValue =>
  sub(
    `arn:\${AWS::Partition}:${service}:${opts.region === false ? '' : '$' + '{AWS::Region}'}:${opts.account === false ? '' : '$' + '{AWS::AccountId}'}:${rest}`,
  );
