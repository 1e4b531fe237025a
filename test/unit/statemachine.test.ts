import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import {
  DEFINITION_FILE,
  LARGE_BATCH_DEFINITION_FILE,
  loadDefinition,
  placeholdersIn,
} from '../../statemachine/definition.ts';

const ANALYZE_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:image-analyze';
const raw = readFileSync(DEFINITION_FILE, 'utf8');

describe('the workflow definition', () => {
  it('is valid Amazon States Language once its placeholders are substituted', () => {
    const definition = JSON.parse(loadDefinition({ AnalyzeFunctionArn: ANALYZE_ARN }));
    const result = aslValidator(definition, { checkPaths: true, checkArn: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('expects exactly the substitutions the stack and the local runtime provide', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation placeholder
    expect([...new Set(placeholdersIn(raw))]).toEqual(['${AnalyzeFunctionArn}']);
  });

  it('leaves no placeholder behind and puts the function ARN in the task', () => {
    const text = loadDefinition({ AnalyzeFunctionArn: ANALYZE_ARN });
    expect(placeholdersIn(text)).toEqual([]);
    const map = JSON.parse(text).States['Analyze each chunk'];
    expect(map.ItemProcessor.States['Analyze chunk'].Parameters.FunctionName).toBe(ANALYZE_ARN);
  });

  it('refuses to load with a substitution missing', () => {
    expect(() => loadDefinition({} as never)).toThrow(
      /No substitution for \$\{AnalyzeFunctionArn\}/,
    );
  });

  it('fans out over chunks with an explicit concurrency and catches every failure of a chunk', () => {
    const map = JSON.parse(raw).States['Analyze each chunk'];
    expect(map.Type).toBe('Map');
    expect(map.ItemsPath).toBe('$.chunks');
    expect(map.MaxConcurrency).toBeGreaterThan(0);
    const task = map.ItemProcessor.States['Analyze chunk'];
    expect(task.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect(task.Catch.at(-1).ErrorEquals).toEqual(['States.ALL']);
  });

  it('returns from the Map itself the request and the per-chunk records flattened in upload order, with no state copying them', () => {
    const states = JSON.parse(raw).States;
    expect(states['Analyze each chunk'].ResultSelector).toEqual({
      'request.$': '$$.Execution.Input.request',
      'results.$': '$[*][*]',
    });
    // Only the delete follows (its input is its output): each state's input and output is
    // logged, records included, so no Pass state re-shapes them.
    expect(Object.keys(states).sort()).toEqual([
      'Analyze each chunk',
      'Discard staged images',
      'Staged images left to the lifecycle rule',
    ]);
  });

  it("retries the platform's transient failures with backoff, and records each image of the chunk as retryable", () => {
    const processor = JSON.parse(raw).States['Analyze each chunk'].ItemProcessor;
    const task = processor.States['Analyze chunk'];
    const [retry] = task.Retry;
    /** A failed chunk becomes one record per image: an inline Map over its Items. */
    const recordOf = (catcher: { Next: string }) => {
      const perImage = processor.States[catcher.Next];
      expect(perImage.Type).toBe('Map');
      expect(perImage.ItemsPath).toBe('$.Items');
      expect(perImage.MaxConcurrency).toBeGreaterThan(0);
      const pass = perImage.ItemProcessor.States[perImage.ItemProcessor.StartAt];
      expect(pass.Type).toBe('Pass');
      return pass.Parameters;
    };
    for (const name of [
      'Lambda.TooManyRequestsException',
      'Lambda.ClientExecutionTimeoutException',
      'Lambda.ServiceException',
      'StagedImageUnavailable',
    ]) {
      expect(retry.ErrorEquals).toContain(name);
      const caught = task.Catch.find((c: { ErrorEquals: string[] }) =>
        c.ErrorEquals.includes(name),
      );
      expect(recordOf(caught).error.retryable).toBe(true);
    }
    expect(retry.BackoffRate).toBeGreaterThan(1);
    expect(retry.MaxAttempts).toBeGreaterThan(0);
    const crash = task.Catch.find((c: { ErrorEquals: string[] }) =>
      c.ErrorEquals.includes('States.ALL'),
    );
    expect(recordOf(crash).error.retryable).toBe(false);
  });

  it('hands the function only the chunk: references, never image bytes', () => {
    const task = JSON.parse(raw).States['Analyze each chunk'].ItemProcessor.States['Analyze chunk'];
    expect(task.Parameters['Payload.$']).toBe('$');
  });

  it("deletes the batch's staged object once the Map is done, and a failed delete fails nothing", () => {
    const states = JSON.parse(raw).States;
    expect(states['Analyze each chunk'].Next).toBe('Discard staged images');
    const discard = states['Discard staged images'];
    expect(discard.Resource).toBe('arn:aws:states:::aws-sdk:s3:deleteObject');
    expect(discard.Parameters).toEqual({
      'Bucket.$': '$$.Execution.Input.staged.bucket',
      'Key.$': '$$.Execution.Input.staged.key',
    });
    // The results pass through untouched, whatever the delete did.
    expect(discard.ResultPath).toBeNull();
    expect(discard.Catch).toEqual([
      {
        ErrorEquals: ['States.ALL'],
        ResultPath: null,
        Next: 'Staged images left to the lifecycle rule',
      },
    ]);
    expect(discard.End).toBe(true);
    expect(states['Staged images left to the lifecycle rule']).toEqual({ Type: 'Pass', End: true });
  });

  it('stays within Express limits: the whole run is capped at five minutes', () => {
    expect(JSON.parse(raw).TimeoutSeconds).toBeLessThanOrEqual(300);
  });
});

describe('the two workflows', () => {
  const retryOf = (file: string, path: string[]) => {
    let state = JSON.parse(readFileSync(file, 'utf8'));
    for (const step of path) state = state.States?.[step] ?? state.ItemProcessor.States[step];
    const [{ Comment: _, MaxAttempts: __, ...retry }] = state.Retry;
    return retry;
  };

  it('retry the same transient errors of the analysis, with the same backoff', () => {
    const small = retryOf(DEFINITION_FILE, ['Analyze each chunk', 'Analyze chunk']);
    const large = retryOf(LARGE_BATCH_DEFINITION_FILE, ['Analyze each batch', 'Analyze batch']);
    expect(large.ErrorEquals).toContain('Lambda.ClientExecutionTimeoutException');
    expect([...large.ErrorEquals].sort()).toEqual([...small.ErrorEquals].sort());
    expect(large).toEqual({ ...small, ErrorEquals: large.ErrorEquals });
  });
});
