import type { PolicySettings, Variable } from './settings.js'
export function warningVariables (): Variable[] { return [] }
export function warningValidations (_settings: PolicySettings): Array<Record<string, string>> { return [{ expression: 'true', message: 'x' }] }
