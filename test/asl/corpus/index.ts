import { errorCases } from './errors.js';
import { jsonataCases } from './jsonata.js';
import { intrinsicCases, pathCases } from './paths-and-intrinsics.js';
import { choiceCases, stateCases } from './states.js';
import type { AslCase } from './types.js';

export const corpus: AslCase[] = [...pathCases, ...intrinsicCases, ...choiceCases, ...stateCases, ...errorCases, ...jsonataCases];
export type { AslCase };
