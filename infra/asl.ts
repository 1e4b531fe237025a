/**
 * What the stack reads from an ASL file before deploying it (no CDK import here: the local
 * runtime can load it too, to give the large-batch workflow the concurrency the stack gives it).
 */
import { readFileSync } from 'node:fs';

interface AslState {
  Type?: string;
  Resource?: string;
  MaxConcurrency?: number;
  MaxConcurrencyPath?: string;
  Label?: string;
  ItemProcessor?: { ProcessorConfig?: { Mode?: string }; States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
  Branches?: { States: Record<string, AslState> }[];
}
const readStates = (file: string) =>
  (JSON.parse(readFileSync(file, 'utf8')) as { States: Record<string, AslState> }).States;

/**
 * How many analyses (`lambda:invoke` Tasks) one run of an ASL file may have in flight: a Map
 * multiplies what runs inside it by its MaxConcurrency (for a Distributed Map, child workflows
 * at once, each running its own states), a Parallel adds its branches, states in sequence take
 * the largest. Infinity when a Map above an analysis is unbounded. `MaxConcurrencyPath` is
 * resolved at run time: `concurrencyFromPath` is what the stack makes it resolve to.
 */
export const mapConcurrencyOf = (definitionFile: string, concurrencyFromPath?: number): number => {
  const inFlight = (states: Record<string, AslState>): number =>
    Math.max(
      0,
      ...Object.values(states).map((state) => {
        if (state.Type === 'Task')
          return state.Resource?.startsWith('arn:aws:states:::lambda:invoke') ? 1 : 0;
        if (state.Type === 'Parallel')
          return (state.Branches ?? []).reduce((sum, b) => sum + inFlight(b.States), 0);
        const processor = state.ItemProcessor ?? state.Iterator;
        if (state.Type !== 'Map' || !processor) return 0;
        const inside = inFlight(processor.States);
        const bound =
          state.MaxConcurrency ??
          (state.MaxConcurrencyPath === undefined ? undefined : concurrencyFromPath);
        if (inside === 0) return 0;
        return bound ? bound * inside : Number.POSITIVE_INFINITY;
      }),
    );
  return inFlight(readStates(definitionFile));
};

/** The Label of an ASL file's Distributed Map, which names its Map Runs and child executions
 * (AWS generates one when the state has none). */
export const distributedMapLabelOf = (definitionFile: string): string | undefined => {
  const find = (states: Record<string, AslState>): string | undefined => {
    for (const state of Object.values(states)) {
      if (state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED') return state.Label ?? '';
      const inner = state.ItemProcessor ?? state.Iterator;
      const found = inner && find(inner.States);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return find(readStates(definitionFile));
};

/** How IAM names what a machine's Distributed Map starts (its child executions, its Map Runs):
 * `<machine>/<label>:*`, or any label (`<machine>/*`) when the Map has none. */
export const labelledResourceName = (machineName: string, definitionFile: string): string => {
  const label = distributedMapLabelOf(definitionFile);
  return label ? `${machineName}/${label}:*` : `${machineName}/*`;
};
