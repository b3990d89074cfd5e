// csv.mjs: reading a CSV export and comparing it with the API's rows, for the
// browser tests (cockpit.mjs, csm.mjs).

// RFC 4180: fields separated by commas, quoted when they hold , " CR LF.
export function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// A JSON value as the CSV writes it.
function cell(v) {
  if (v === null || v === undefined || typeof v === 'object') return '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

function member(row, col) {
  if (col in row) return row[col];
  const dot = col.indexOf('.');
  if (dot < 0) return undefined;
  const parent = row[col.slice(0, dot)];
  return parent && typeof parent === 'object' && !Array.isArray(parent) ? parent[col.slice(dot + 1)] : undefined;
}

// Compares a CSV export with the API's rows: same count, same order (by id),
// every cell equal (numbers compared as numbers).
export function csvEqualsApi(csvText, rows, idCol = 'id') {
  const t = parseCsv(csvText);
  const header = t[0] || [];
  const body = t.slice(1);
  const problems = [];
  if (body.length !== rows.length) problems.push(`rows: csv ${body.length}, api ${rows.length}`);
  for (let i = 0; i < Math.min(body.length, rows.length); i++) {
    for (let c = 0; c < header.length; c++) {
      const want = member(rows[i], header[c]);
      const got = body[i][c];
      const same = typeof want === 'number' ? Number(got) === want : got === cell(want);
      if (!same) problems.push({ row: i, id: rows[i][idCol], column: header[c], csv: got, api: want });
      if (problems.length > 5) return problems;
    }
  }
  if (!header.includes(idCol)) problems.push(`no ${idCol} column: ${header}`);
  return problems;
}
