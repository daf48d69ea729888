// jsforce (npm, pinned in package.json / package-lock.json) against the Salesforce stand-in, unchanged:
// only its loginUrl points at the sandbox. Prints one JSON object of what each step got back.
// Environment: SF_LOGIN_URL, SF_USERNAME, SF_PASSWORD (and NODE_EXTRA_CA_CERTS for the sandbox's CA).
import jsforce from 'jsforce';

const PEOPLE = 230; // more than one Collections call (200 at most) and, with the test's page size, several pages

const conn = new jsforce.Connection({ loginUrl: process.env.SF_LOGIN_URL });
const login = await conn.login(process.env.SF_USERNAME, process.env.SF_PASSWORD);
const identity = await conn.identity();

const people = Array.from({ length: PEOPLE }, (_, i) => ({
  LastName: `Js${i}`, Email: `js.${i}@jsforce.example`, Eventmaker_Id__c: `js-${i}`,
}));
const created = await conn.sobject('Contact').create(people, { allowRecursive: true });
const ids = created.map((result) => result.id);
const updated = await conn.sobject('Contact').update(
  ids.slice(0, 5).map((Id) => ({ Id, Title: 'Updated by jsforce' })));
const upserted = await conn.sobject('Contact').upsert(
  [{ Eventmaker_Id__c: 'js-0', Title: 'Upserted by jsforce' }, { Eventmaker_Id__c: 'js-new', LastName: 'JsNew' }],
  'Eventmaker_Id__c');

const rows = [];
await new Promise((resolve, reject) => {
  conn.query('SELECT Id, LastName, Title FROM Contact WHERE Email LIKE \'%@jsforce.example\'')
    .on('record', (record) => rows.push(record))
    .on('end', resolve)
    .on('error', reject)
    .run({ autoFetch: true, maxFetch: 10000 });
});
const pages = [];
const first = await conn.query('SELECT Id FROM Contact');
pages.push(first.records.length);
let more = first;
while (!more.done) {
  more = await conn.queryMore(more.nextRecordsUrl);
  pages.push(more.records.length);
}

const composite = await conn.requestPost(`/services/data/v${conn.version}/composite`, {
  allOrNone: true,
  compositeRequest: [
    { method: 'POST', url: `/services/data/v${conn.version}/sobjects/Lead`, referenceId: 'newLead',
      body: { LastName: 'Composite', Company: 'jsforce', Email: 'composite@jsforce.example' } },
    { method: 'GET', url: `/services/data/v${conn.version}/sobjects/Lead/@{newLead.id}?fields=Id,Company`,
      referenceId: 'readLead' },
  ],
});

console.log(JSON.stringify({
  version: conn.version, login, identity: { user_id: identity.user_id, username: identity.username },
  created: created.map((r) => r.success), updated: updated.map((r) => r.success),
  upserted: upserted.map((r) => ({ success: r.success, created: r.created })),
  queried: { totalSize: rows.length, titles: rows.filter((r) => r.Title).map((r) => r.Title) },
  pages,
  composite: composite.compositeResponse.map((r) => ({ referenceId: r.referenceId, status: r.httpStatusCode,
    company: (r.body && r.body.Company) ?? null })),
}));
