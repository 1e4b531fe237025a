/**
 * References, not bytes, as deployed: what the synthesised state machines pass to the analysis
 * Lambda is a chunk as the ingest builds it (identity, size and offset of each image) with the
 * request's view, staged object and deadline beside it — checked on the CloudFormation
 * template's own definitions, with items the real ingest code made from real images — and the
 * Lambda may read and delete the staged objects it is handed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { declaredPixels } from '../../lambdas/ingest/pixels.ts';
import { chunksFor, itemsFor, stagingKey } from '../../lambdas/ingest/staging.ts';
import type { ExecutionInput } from '../../lambdas/shared/workflow.ts';
import { fixtureImage } from '../support/fixtures.ts';
import { logicalId, synth } from './synth.ts';

const { template, assembly, stack } = synth();

interface State {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ItemsPath?: string;
  ItemSelector?: unknown;
  ItemProcessor?: { States: Record<string, State> };
  Iterator?: { States: Record<string, State> };
}

/** The request machines' definitions as deployed: the asset CloudFormation reads from S3 (the
 * large-batch machine reads its items from a manifest: large-batch.test.ts). */
const requestMachines = [stack.workflows.sync, stack.workflows.async].map(logicalId);
const definitions = Object.entries(template.findResources('AWS::StepFunctions::StateMachine'))
  .filter(([id]) => requestMachines.includes(id))
  .map(
    ([, machine]) =>
      JSON.parse(
        readFileSync(
          path.join(assembly.directory, `asset.${machine.Properties.DefinitionS3Location.Key}`),
          'utf8',
        ),
      ) as { States: Record<string, State> },
  );

/** Every Task that invokes a function, with the Map states it runs under. */
const lambdaTasks = (states: Record<string, State>, maps: State[] = []): [State, State[]][] =>
  Object.values(states).flatMap((state): [State, State[]][] => {
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) return lambdaTasks(processor.States, [...maps, state]);
    return state.Type === 'Task' && state.Resource === 'arn:aws:states:::lambda:invoke'
      ? [[state, maps]]
      : [];
  });

const images = ['photo_400x600.jpg', 'rgb_4000x3000.jpg', 'palette_150x100.png'].map((name) => ({
  name: 'image',
  filename: name,
  contentType: 'image/jpeg',
  content: fixtureImage(name),
}));
const input: ExecutionInput = {
  request: { view: 'shape', multipart: true },
  staged: { bucket: 'staging', key: stagingKey('e') },
  deadline: null,
  chunks: chunksFor(
    itemsFor(images),
    images.map((image) => declaredPixels(image.content)),
  ),
};

describe('what the workflows hand the analysis Lambda', () => {
  it('has two request machines, each invoking the function per Map item', () => {
    expect(definitions).toHaveLength(2);
    for (const definition of definitions) {
      expect(lambdaTasks(definition.States).length).toBeGreaterThan(0);
    }
  });

  it('passes the Map item (a chunk) with only references beside it, never images', () => {
    for (const definition of definitions) {
      for (const [task, maps] of lambdaTasks(definition.States)) {
        // The item itself, not a selection of the execution input.
        expect(task.Parameters?.['Payload.$']).toBe('$');
        // Beside it only the function and the execution's ARN, for the function's logs.
        expect(Object.keys(task.Parameters ?? {}).sort()).toEqual([
          'ClientContext.$',
          'FunctionName',
          'Payload.$',
        ]);
        expect(task.Parameters?.['ClientContext.$']).toContain('$$.Execution.Id');
        for (const map of maps) {
          expect(map.ItemsPath).toBe('$.chunks');
          // The chunk's items, and what they share from the execution input: no other field.
          expect(map.ItemSelector).toEqual({
            'Items.$': '$$.Map.Item.Value.Items',
            BatchInput: {
              'view.$': '$.request.view',
              'object.$': '$.staged',
              'deadline.$': '$.deadline',
            },
          });
        }
      }
    }
    // So the payload is exactly one of these: keys and sizes, no bytes.
    expect(input.chunks).toHaveLength(1);
    for (const chunk of input.chunks) {
      const BatchInput = { view: input.request.view, object: input.staged, deadline: null };
      const payload = JSON.stringify({ ...chunk, BatchInput });
      for (const { content } of images) {
        const base64 = content.toString('base64');
        for (let at = 0; at + 24 <= base64.length; at += Math.ceil(base64.length / 8))
          expect(payload).not.toContain(base64.slice(at, at + 24));
      }
      expect(payload.length).toBeLessThan(300 * chunk.Items.length);
    }
  });

  it('lets the analysis Lambda read and delete the staged objects, and nothing more on S3', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const s3Actions = policies.flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
        .flatMap((s) => [s.Action].flat())
        .filter((a) => a.startsWith('s3:')),
    );
    expect(s3Actions).toEqual(
      expect.arrayContaining(['s3:GetObject', 's3:DeleteObject', 's3:PutObject']),
    );
    expect(s3Actions.filter((a) => a.includes('*'))).toEqual([]);
  });
});
