import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { describeError } from '../../../lib/errors';
import { createShow } from '../api/shows';
import {
  LIMITS,
  emptySection,
  validateShow,
  type Currency,
  type FieldErrors,
  type SectionDraft,
  type ShowDraft,
} from '../model/validation';

function defaultStart(): string {
  const d = new Date(Date.now() + 7 * 24 * 3600 * 1000);
  d.setHours(20, 0, 0, 0);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const initial = (): ShowDraft => ({
  title: '',
  venue: '',
  startsAt: defaultStart(),
  holdSeconds: String(LIMITS.holdSeconds.default),
  saleOpensAt: '',
  fairStartWindow: '',
  currency: LIMITS.currency.default,
  sections: [emptySection(0)],
});

/** Create a show (admin). Validates what the API validates before sending; server refusals are shown too. */
export function CreateShowForm({ onCreated }: { onCreated: (showId: string) => void }) {
  const [draft, setDraft] = useState<ShowDraft>(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const mutation = useMutation({ mutationFn: createShow });
  const check = validateShow(draft);

  const update = (patch: Partial<ShowDraft>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    if (submitted) {
      const result = validateShow(next);
      setErrors(result.ok ? {} : result.errors);
    }
  };
  const updateSection = (i: number, patch: Partial<SectionDraft>) =>
    update({ sections: draft.sections.map((s, j) => (j === i ? { ...s, ...patch } : s)) });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    const result = validateShow(draft);
    if (!result.ok) {
      setErrors(result.errors);
      const first = document.querySelector<HTMLElement>('[aria-invalid="true"]');
      first?.focus();
      return;
    }
    setErrors({});
    mutation.mutate(result.body, { onSuccess: (out) => onCreated(out.show_id) });
  };

  const field = (path: string) => ({
    'aria-invalid': errors[path] ? (true as const) : undefined,
    'aria-describedby': errors[path] ? `err-${path.replace(/\./g, '-')}` : undefined,
  });
  const error = (path: string) =>
    errors[path] ? (
      <span className="error" id={`err-${path.replace(/\./g, '-')}`} data-testid={`error-${path}`}>
        {errors[path]}
      </span>
    ) : null;

  return (
    <form className="admin-form" onSubmit={onSubmit} noValidate data-testid="create-show-form">
      <div className="field">
        <label htmlFor="show-title">Title</label>
        <input id="show-title" value={draft.title} onChange={(e) => update({ title: e.target.value })} {...field('title')} />
        {error('title')}
      </div>
      <div className="field">
        <label htmlFor="show-venue">Venue</label>
        <input id="show-venue" value={draft.venue} onChange={(e) => update({ venue: e.target.value })} {...field('venue')} />
        {error('venue')}
      </div>
      <div className="field">
        <label htmlFor="show-starts-at">Starts at (your local time)</label>
        <input
          id="show-starts-at"
          type="datetime-local"
          value={draft.startsAt}
          onChange={(e) => update({ startsAt: e.target.value })}
          {...field('starts_at')}
        />
        {error('starts_at')}
      </div>
      <div className="field">
        <label htmlFor="show-hold">Hold seconds ({LIMITS.holdSeconds.min}–{LIMITS.holdSeconds.max})</label>
        <input
          id="show-hold"
          type="number"
          min={LIMITS.holdSeconds.min}
          max={LIMITS.holdSeconds.max}
          inputMode="numeric"
          value={draft.holdSeconds}
          onChange={(e) => update({ holdSeconds: e.target.value })}
          {...field('hold_seconds')}
        />
        {error('hold_seconds')}
      </div>
      <div className="field">
        <label htmlFor="show-sale-opens-at">Sales open at (empty: at once)</label>
        <input
          id="show-sale-opens-at"
          type="datetime-local"
          value={draft.saleOpensAt}
          onChange={(e) => update({ saleOpensAt: e.target.value })}
          data-testid="show-sale-opens-at"
          {...field('sale_opens_at')}
        />
        {error('sale_opens_at')}
      </div>
      <div className="field">
        <label htmlFor="show-fair-start">
          Fair start: seconds after the opening drawn in random order ({LIMITS.fairStartWindow.min}–
          {LIMITS.fairStartWindow.max})
        </label>
        <input
          id="show-fair-start"
          type="number"
          min={LIMITS.fairStartWindow.min}
          max={LIMITS.fairStartWindow.max}
          inputMode="numeric"
          value={draft.fairStartWindow}
          onChange={(e) => update({ fairStartWindow: e.target.value })}
          data-testid="show-fair-start"
          {...field('fair_start_window_s')}
        />
        {error('fair_start_window_s')}
      </div>
      <div className="field">
        <label htmlFor="show-cancellable">Customers may cancel a paid booking until (hours before the start)</label>
        <input
          id="show-cancellable"
          inputMode="numeric"
          placeholder="0 (until the start); never"
          value={draft.cancellableUntilHours ?? ''}
          onChange={(e) => update({ cancellableUntilHours: e.target.value })}
          data-testid="show-cancellable"
          {...field('cancellable_until_hours')}
        />
        {error('cancellable_until_hours')}
      </div>
      <div className="field">
        <label htmlFor="show-refund">Refund on cancellation (% of what was paid)</label>
        <input
          id="show-refund"
          type="number"
          min={0}
          max={100}
          inputMode="numeric"
          placeholder="100"
          value={draft.refundPercent ?? ''}
          onChange={(e) => update({ refundPercent: e.target.value })}
          data-testid="show-refund"
          {...field('refund_percent')}
        />
        {error('refund_percent')}
      </div>
      <div className="field">
        <label htmlFor="show-currency">Currency</label>
        <select
          id="show-currency"
          value={draft.currency}
          onChange={(e) => update({ currency: e.target.value as Currency })}
          data-testid="show-currency"
        >
          {LIMITS.currency.values.map((code) => (
            <option key={code} value={code}>
              {code}
            </option>
          ))}
        </select>
      </div>

      <fieldset>
        <legend>Sections ({LIMITS.sections.min}–{LIMITS.sections.max})</legend>
        <table className="sections-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Rows</th>
              <th scope="col">Seats per row</th>
              <th scope="col">Price ({draft.currency})</th>
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {draft.sections.map((s, i) => (
              <tr key={i} data-testid="section-row">
                <td>
                  <input
                    aria-label={`Section ${i + 1} name`}
                    value={s.name}
                    size={8}
                    onChange={(e) => updateSection(i, { name: e.target.value })}
                    {...field(`sections.${i}.name`)}
                  />
                  {error(`sections.${i}.name`)}
                </td>
                <td>
                  <input
                    aria-label={`Section ${i + 1} rows`}
                    type="number"
                    min={LIMITS.rows.min}
                    max={LIMITS.rows.max}
                    value={s.rows}
                    onChange={(e) => updateSection(i, { rows: e.target.value })}
                    {...field(`sections.${i}.rows`)}
                  />
                  {error(`sections.${i}.rows`)}
                </td>
                <td>
                  <input
                    aria-label={`Section ${i + 1} seats per row`}
                    type="number"
                    min={LIMITS.seatsPerRow.min}
                    max={LIMITS.seatsPerRow.max}
                    value={s.seatsPerRow}
                    onChange={(e) => updateSection(i, { seatsPerRow: e.target.value })}
                    {...field(`sections.${i}.seats_per_row`)}
                  />
                  {error(`sections.${i}.seats_per_row`)}
                </td>
                <td>
                  <input
                    aria-label={`Section ${i + 1} price`}
                    inputMode="decimal"
                    size={10}
                    value={s.price}
                    onChange={(e) => updateSection(i, { price: e.target.value })}
                    {...field(`sections.${i}.price_cents`)}
                  />
                  {error(`sections.${i}.price_cents`)}
                </td>
                <td>
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Remove section ${i + 1}`}
                    onClick={() => update({ sections: draft.sections.filter((_, j) => j !== i) })}
                    disabled={draft.sections.length <= LIMITS.sections.min}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button
          type="button"
          className="secondary"
          data-testid="add-section"
          onClick={() => update({ sections: [...draft.sections, emptySection(draft.sections.length)] })}
          disabled={draft.sections.length >= LIMITS.sections.max}
        >
          Add section
        </button>
        <p data-testid="seat-total" aria-live="polite">
          {check.seats.toLocaleString()} seats in all (at most {LIMITS.seats.max.toLocaleString()}).
        </p>
        {error('sections')}
      </fieldset>

      <button type="submit" data-testid="create-show-submit" disabled={mutation.isPending}>
        {mutation.isPending ? 'Creating…' : 'Create show'}
      </button>
      {Object.keys(errors).length > 0 && (
        <p className="error" role="alert">
          Please correct the {Object.keys(errors).length === 1 ? 'field' : 'fields'} marked above.
        </p>
      )}
      {mutation.isError && (
        <p className="error" role="alert" data-testid="create-show-error">
          {describeError(mutation.error)}
        </p>
      )}
    </form>
  );
}
