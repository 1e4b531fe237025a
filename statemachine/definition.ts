/**
 * The ASL file is the single source of the workflow: CDK loads it with
 * DefinitionBody.fromFile + definitionSubstitutions, the local runtime through this module.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DEFINITION_FILE = path.join(import.meta.dirname, 'analyze-batch.asl.json');
/** The large-batch workflow: a Distributed Map over a manifest in S3 (same substitutions). */
export const LARGE_BATCH_DEFINITION_FILE = path.join(import.meta.dirname, 'large-batch.asl.json');

/** The `${…}` placeholders the definition expects, and what fills them. */
export interface DefinitionSubstitutions {
  AnalyzeFunctionArn: string;
}

const PLACEHOLDER = /\$\{(\w+)\}/g;

/** Substitutes like CloudFormation does and refuses to leave a placeholder behind. */
export const loadDefinition = (
  substitutions: DefinitionSubstitutions,
  file = DEFINITION_FILE,
): string => {
  const values: Record<string, string> = { ...substitutions };
  return readFileSync(file, 'utf8').replace(PLACEHOLDER, (match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`No substitution for ${match} in ${file}`);
    return value;
  });
};

export const placeholdersIn = (text: string): string[] =>
  [...text.matchAll(PLACEHOLDER)].map((m) => m[0]);
