/**
 * A sortable, filterable table with expandable rows, driven by saved data alone (no kernel).
 */

import { Child, h } from './dom';

export interface IColumn<T> {
  key: string;
  label: string;
  /** The value sorted and filtered on. */
  value: (row: T) => unknown;
  /** What the cell shows (default: the value as text). */
  cell?: (row: T) => Child;
  numeric?: boolean;
  title?: string;
}

export interface IToggle<T> {
  label: string;
  test: (row: T) => boolean;
  checked?: boolean;
}

export interface ITableOptions<T> {
  columns: IColumn<T>[];
  rows: T[];
  /** Show a text filter over every column's value. */
  filter?: boolean;
  filterPlaceholder?: string;
  /** Checkboxes that keep only rows passing ``test`` while checked. */
  toggles?: IToggle<T>[];
  /** Content shown under a row when it is expanded; rows are expandable when given. */
  expand?: (row: T) => HTMLElement;
  rowClass?: (row: T) => string;
  sort?: { key: string; descending?: boolean };
  className?: string;
  empty?: string;
}

function compare(a: unknown, b: unknown): number {
  const missingA = a === null || a === undefined || (typeof a === 'number' && Number.isNaN(a));
  const missingB = b === null || b === undefined || (typeof b === 'number' && Number.isNaN(b));
  if (missingA || missingB) {
    return missingA === missingB ? 0 : missingA ? 1 : -1; // missing values sort last
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') {
    return Number(a) - Number(b);
  }
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Build the table; re-renders its body on every sort, filter or toggle change. */
export function dataTable<T>(options: ITableOptions<T>): HTMLElement {
  const { columns, rows } = options;
  let sortKey = options.sort?.key ?? null;
  let descending = options.sort?.descending ?? false;
  let query = '';
  const toggles = (options.toggles ?? []).map(t => ({ ...t, on: t.checked ?? false }));
  const expanded = new Set<number>();

  const tbody = h('tbody');
  const count = h('span', { class: 'mb-table-count' });
  const headers = columns.map(column => {
    const button = h(
      'button',
      {
        class: 'mb-sort',
        type: 'button',
        title: column.title ?? `Sort by ${column.label}`,
        onclick: () => {
          if (sortKey === column.key) {
            descending = !descending;
          } else {
            sortKey = column.key;
            descending = false;
          }
          render();
        }
      },
      column.label,
      h('span', { class: 'mb-sort-mark', 'aria-hidden': 'true' })
    );
    return h(
      'th',
      { 'data-key': column.key, class: column.numeric ? 'mb-num' : undefined },
      button
    );
  });

  function visibleRows(): { row: T; index: number }[] {
    const needle = query.trim().toLowerCase();
    let out = rows.map((row, index) => ({ row, index }));
    for (const toggle of toggles) {
      if (toggle.on) {
        out = out.filter(({ row }) => toggle.test(row));
      }
    }
    if (needle) {
      out = out.filter(({ row }) =>
        columns.some(c => cellText(c.value(row)).toLowerCase().includes(needle))
      );
    }
    const column = columns.find(c => c.key === sortKey);
    if (column) {
      out.sort((a, b) => {
        const order = compare(column.value(a.row), column.value(b.row));
        // Missing values stay last in both directions.
        const va = column.value(a.row);
        const vb = column.value(b.row);
        const missing = va === null || va === undefined || vb === null || vb === undefined;
        return descending && !missing ? -order : order;
      });
    }
    return out;
  }

  function render(): void {
    headers.forEach((th, i) => {
      const key = columns[i].key;
      th.setAttribute(
        'aria-sort',
        key === sortKey ? (descending ? 'descending' : 'ascending') : 'none'
      );
    });
    const shown = visibleRows();
    tbody.replaceChildren();
    const span = columns.length + (options.expand ? 1 : 0);
    for (const { row, index } of shown) {
      const isOpen = expanded.has(index);
      const cells: HTMLElement[] = [];
      if (options.expand) {
        cells.push(
          h(
            'td',
            { class: 'mb-expand-cell' },
            h(
              'button',
              {
                class: 'mb-expand',
                type: 'button',
                'aria-expanded': isOpen ? 'true' : 'false',
                title: isOpen ? 'Hide details' : 'Show details',
                onclick: () => {
                  if (expanded.has(index)) {
                    expanded.delete(index);
                  } else {
                    expanded.add(index);
                  }
                  render();
                }
              },
              isOpen ? '▾' : '▸'
            )
          )
        );
      }
      for (const column of columns) {
        const content = column.cell ? column.cell(row) : cellText(column.value(row));
        cells.push(h('td', { class: column.numeric ? 'mb-num' : undefined }, content));
      }
      const extra = options.rowClass ? options.rowClass(row) : '';
      tbody.appendChild(h('tr', { class: `mb-row ${extra}`.trim() }, ...cells));
      if (isOpen && options.expand) {
        tbody.appendChild(
          h('tr', { class: 'mb-detail' }, h('td', { colspan: span }, options.expand(row)))
        );
      }
    }
    if (shown.length === 0) {
      tbody.appendChild(
        h('tr', { class: 'mb-empty' }, h('td', { colspan: span }, options.empty ?? 'No rows match.'))
      );
    }
    const noun = rows.length === 1 ? 'row' : 'rows';
    count.textContent =
      shown.length === rows.length ? `${rows.length} ${noun}` : `${shown.length} of ${rows.length} ${noun}`;
  }

  const toolbar = h('div', { class: 'mb-table-toolbar' });
  if (options.filter) {
    const input = h('input', {
      class: 'mb-filter',
      type: 'search',
      placeholder: options.filterPlaceholder ?? 'Filter…',
      'aria-label': options.filterPlaceholder ?? 'Filter rows'
    });
    input.addEventListener('input', () => {
      query = input.value;
      render();
    });
    toolbar.appendChild(input);
  }
  for (const toggle of toggles) {
    const box = h('input', { type: 'checkbox', class: 'mb-toggle' });
    box.checked = toggle.on;
    box.addEventListener('change', () => {
      toggle.on = box.checked;
      render();
    });
    toolbar.appendChild(h('label', { class: 'mb-toggle-label' }, box, toggle.label));
  }
  if (options.filter || toggles.length) {
    toolbar.appendChild(count);
  }

  const head = h(
    'tr',
    null,
    options.expand ? h('th', { class: 'mb-expand-cell', 'aria-label': 'details' }) : null,
    ...headers
  );
  const table = h('table', { class: 'mb-table' }, h('thead', null, head), tbody);
  render();
  return h(
    'div',
    { class: `mb-table-wrap ${options.className ?? ''}`.trim() },
    toolbar.childElementCount ? toolbar : null,
    h('div', { class: 'mb-table-scroll' }, table)
  );
}

/** A two-column key/value table for small mappings (parameters, metrics, tags). */
export function kvTable(entries: [string, Child][], className = ''): HTMLElement {
  return h(
    'table',
    { class: `mb-kv ${className}`.trim() },
    h(
      'tbody',
      null,
      ...entries.map(([key, value]) => h('tr', null, h('th', null, key), h('td', null, value)))
    )
  );
}
