/**
 * quoteNames and containersNamed of src/admission/names.ts in CEL: one warning names every
 * container it concerns, the list cut with "… and N more" past MAX_LIST characters. Container names
 * are DNS labels, so JSON.stringify of one is the name in double quotes.
 */
import { MAX_LIST } from '../admission/names.js'

/**
 * A name is shown while the names so far, joined by ", ", fit in MAX_LIST (the first always is): that
 * length grows with each name, so the shown ones are a prefix. `list` is evaluated several times.
 */
export function quoteNames (list: string): string {
  const quoted = `${list}.map(n, '"' + n + '"')`
  const shown = `${quoted}.transformList(i, q, i == 0 || size(${quoted}.slice(0, i + 1).join(', ')) <= ${MAX_LIST}, q)`
  const [count, showing] = [`size(${list})`, `size(${shown})`]
  return `(${showing} < ${count} ? ${shown}.join(', ') + ', … and ' + string(${count} - ${showing}) + ' more' : ` +
    `${count} == 1 ? ${quoted}[0] : ${quoted}.slice(0, ${count} - 1).join(', ') + ' and ' + ${quoted}[${count} - 1])`
}

/** `container "web"` or `containers "web" and "api"`. */
export const containersNamed = (list: string): string => `(size(${list}) == 1 ? 'container ' : 'containers ') + ${quoteNames(list)}`

/** `one` for a list of one name, else `many`: the verb that follows the names. */
export const agree = (list: string, one: string, many: string): string => `(size(${list}) == 1 ? ${JSON.stringify(one)} : ${JSON.stringify(many)})`
