import { entriesOf } from './run-state';

/** Key/value rows of an object as plain text (values never become HTML or links). */
export function KeyValueList({ value, testId, empty = 'No arguments' }: { value: Record<string, unknown>; testId?: string; empty?: string }) {
  const rows = entriesOf(value);
  if (rows.length === 0) return <p className="kv-empty">{empty}</p>;
  return (
    <dl className="kv" data-testid={testId}>
      {rows.map((r) => (
        <div className="kv-row" key={r.key} data-key={r.key}>
          <dt title={r.key}>{r.label}</dt>
          <dd>{r.value}</dd>
        </div>
      ))}
    </dl>
  );
}
