/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/unit/admission/admit.test.ts > TAP > a Deployment-created Pod: the patch applied gives the expected Pod > patch operations 1`] = `
Array [
  Object {
    "op": "replace",
    "path": "/spec/terminationGracePeriodSeconds",
    "value": 45,
  },
  Object {
    "op": "add",
    "path": "/spec/containers/1/lifecycle",
    "value": Object {
      "preStop": Object {
        "sleep": Object {
          "seconds": 20,
        },
      },
    },
  },
  Object {
    "op": "add",
    "path": "/spec/containers/0/lifecycle",
    "value": Object {
      "preStop": Object {
        "sleep": Object {
          "seconds": 20,
        },
      },
    },
  },
  Object {
    "op": "add",
    "path": "/metadata/annotations/lameduck.dev~1injected",
    "value": "sleep=20s grace=45s handler=sleep containers=web,envoy",
  },
]
`
