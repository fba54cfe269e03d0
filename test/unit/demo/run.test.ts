import t from 'tap'
import { median } from '../../../demo/run.js'

t.test('median: the middle value, the mean of the two middle ones, 0 for none', async t => {
  t.equal(median([5000, 1000, 3000]), 3000)
  t.equal(median([4000, 1000, 3000, 2000]), 2500)
  t.equal(median([]), 0)
})
