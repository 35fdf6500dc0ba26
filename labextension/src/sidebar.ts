/**
 * The registry sidebar: models and datasets with their versions, aliases and latest monitor
 * status, fed by the server extension's read-only API. Selecting a version shows its details
 * with the same views as the MIME renderer; buttons insert the matching ``%modelbook`` cell.
 */

import { Widget } from '@lumino/widgets';

import { api, IEntry, IVersion } from './api';
import { h, section } from './dom';
import { fmtDate } from './format';
import { badge, renderBundle } from './views';

export type InsertCell = (code: string) => void;

export class RegistrySidebar extends Widget {
  constructor(insert: InsertCell) {
    super();
    this._insert = insert;
    this.id = 'modelbook-registry';
    this.addClass('mb-sidebar');
    this.addClass('mb-root');
    this.title.caption = 'Modelbook registry';
    this._filter.addEventListener('input', () => this._renderEntries());
    this.node.append(
      h(
        'div',
        { class: 'mb-sidebar-header' },
        h('span', { class: 'mb-sidebar-title' }, 'Modelbook registry'),
        h('button', { class: 'mb-button mb-refresh', type: 'button', title: 'Reload the registry', onclick: () => void this.refresh() }, '⟳ Refresh')
      ),
      this._where,
      this._filter,
      this._list,
      this._details
    );
  }

  protected onAfterAttach(): void {
    window.addEventListener('focus', this._onFocus);
    if (!this._loaded) {
      void this.refresh();
    }
  }

  protected onBeforeDetach(): void {
    window.removeEventListener('focus', this._onFocus);
  }

  /** Shown again (its tab chosen): reload if the registry may have changed meanwhile. */
  protected onAfterShow(): void {
    if (this._stale || !this._loaded) {
      void this.refresh();
    }
  }

  /**
   * The registry may have changed (a cell that used modelbook finished): reload soon if the
   * sidebar is visible (debounced: a "run all" costs one reload), else when it is next shown.
   */
  changed(delay = 400): void {
    this._stale = true;
    if (!this.isVisible) {
      return;
    }
    window.clearTimeout(this._pending);
    this._pending = window.setTimeout(() => void this.refresh(), delay);
  }

  /** The page regained focus: another process (CLI, scheduled job, another notebook) may
   * have written to the registry while the user was away. */
  private _onFocus = (): void => {
    if (this.isVisible && Date.now() - this._refreshedAt > 1000) {
      this.changed(0);
    } else if (!this.isVisible) {
      this._stale = true;
    }
  };

  /** Reload the entries (and the open version lists) from the server. */
  async refresh(): Promise<void> {
    window.clearTimeout(this._pending);
    this._loaded = true;
    this._stale = false;
    this._refreshedAt = Date.now();
    this._where.textContent = 'Loading…';
    try {
      const result = await api.entries();
      this._entries = result.entries;
      this._versions.clear();
      this._where.textContent = result.exists ? result.registry : `${result.registry} (empty: nothing registered yet)`;
      this._where.title = result.registry;
    } catch (error) {
      this._entries = [];
      this._where.textContent = `Cannot read the registry: ${(error as Error).message}`;
    }
    this._renderEntries();
    for (const name of Array.from(this._open)) {
      await this._loadVersions(name);
    }
  }

  private _renderEntries(): void {
    const needle = this._filter.value.trim().toLowerCase();
    const shown = this._entries.filter(e => !needle || e.name.toLowerCase().includes(needle));
    this._list.replaceChildren();
    for (const kind of ['model', 'dataset'] as const) {
      const group = shown.filter(e => e.kind === kind);
      if (!group.length) {
        continue;
      }
      this._list.appendChild(h('li', { class: 'mb-group' }, kind === 'model' ? 'Models' : 'Datasets'));
      for (const entry of group) {
        this._list.appendChild(this._entryItem(entry));
      }
    }
    if (!shown.length) {
      this._list.appendChild(h('li', { class: 'mb-muted mb-empty' }, this._entries.length ? 'No name matches.' : 'No models or datasets yet.'));
    }
  }

  private _entryItem(entry: IEntry): HTMLElement {
    const open = this._open.has(entry.name);
    const aliases = Object.entries(entry.aliases ?? {});
    const item = h(
      'li',
      { class: `mb-entry${open ? ' mb-open' : ''}`, 'data-name': entry.name, 'data-kind': entry.kind },
      h(
        'button',
        {
          class: 'mb-entry-row',
          type: 'button',
          'aria-expanded': open ? 'true' : 'false',
          onclick: () => void this._toggle(entry.name)
        },
        h('span', { class: 'mb-caret' }, open ? '▾' : '▸'),
        h('span', { class: 'mb-entry-name' }, entry.name),
        entry.status ? badge(entry.status) : null,
        h('span', { class: 'mb-entry-count', title: `latest version ${entry.latest ?? '—'}` }, `${entry.versions} v`)
      ),
      aliases.length
        ? h('div', { class: 'mb-chips mb-entry-aliases' }, ...aliases.map(([a, v]) => h('span', { class: 'mb-chip', title: `${entry.name}@${a} is version ${v}` }, `${a}→${v}`)))
        : null
    );
    if (open) {
      const versions = this._versions.get(entry.name);
      item.appendChild(versions ? this._versionList(entry, versions) : h('div', { class: 'mb-muted mb-loading' }, 'Loading versions…'));
    }
    return item;
  }

  private _versionList(entry: IEntry, versions: IVersion[]): HTMLElement {
    return h(
      'ul',
      { class: 'mb-versions' },
      ...[...versions].reverse().map(v => {
        const ref = `${entry.name}@${v.version}`;
        return h(
          'li',
          { class: `mb-version${this._selected === ref ? ' mb-selected' : ''}`, 'data-ref': ref },
          h(
            'button',
            { class: 'mb-version-row', type: 'button', onclick: () => void this._select(entry, v, versions) },
            h('span', { class: 'mb-version-number' }, `v${v.version}`),
            ...v.aliases.map(a => h('span', { class: 'mb-chip' }, a)),
            h('span', { class: 'mb-version-summary' }, v.summary),
            h('span', { class: 'mb-version-date' }, fmtDate(v.created_at))
          )
        );
      })
    );
  }

  private async _toggle(name: string): Promise<void> {
    if (this._open.has(name)) {
      this._open.delete(name);
      this._renderEntries();
      return;
    }
    this._open.add(name);
    this._renderEntries();
    await this._loadVersions(name);
  }

  private async _loadVersions(name: string): Promise<void> {
    try {
      const result = await api.versions(name);
      this._versions.set(name, result.versions);
    } catch (error) {
      this._open.delete(name);
      this._where.textContent = `Cannot list versions of ${name}: ${(error as Error).message}`;
    }
    this._renderEntries();
  }

  private async _select(entry: IEntry, version: IVersion, versions: IVersion[]): Promise<void> {
    const ref = `${entry.name}@${version.version}`;
    this._selected = ref;
    this._renderEntries();
    const older = versions.filter(v => v.version < version.version);
    const previous = older.length ? older[older.length - 1].version : null;
    const actions = h(
      'div',
      { class: 'mb-actions' },
      h('button', { class: 'mb-button mb-insert-show', type: 'button', onclick: () => this._insert(`%modelbook show ${ref}`) }, 'Insert show'),
      previous !== null
        ? h(
            'button',
            { class: 'mb-button mb-insert-diff', type: 'button', title: `diff with version ${previous}`, onclick: () => this._insert(`%modelbook diff ${entry.name}@${previous} ${ref}`) },
            `Insert diff v${previous}→v${version.version}`
          )
        : null,
      h('button', { class: 'mb-button mb-insert-history', type: 'button', onclick: () => this._insert(`%modelbook history ${ref}`) }, 'Insert history')
    );
    this._details.replaceChildren(h('div', { class: 'mb-details-title' }, ref), actions, h('div', { class: 'mb-muted' }, 'Loading…'));
    try {
      const [bundle, runs] = await Promise.all([
        api.details(entry.name, version.version),
        api.runs(entry.name, version.version, 1)
      ]);
      const last = runs.runs[0];
      const report = last ? await api.run(last.id) : null;
      if (this._selected === ref) {
        this._details.replaceChildren(
          h('div', { class: 'mb-details-title' }, ref),
          actions,
          renderBundle(bundle),
          report
            ? section(h('span', null, 'Latest monitor run ', badge(last.status), ` ${fmtDate(last.started_at)}`), renderBundle(report), {
                open: false,
                className: 'mb-last-run'
              })
            : h('p', { class: 'mb-muted' }, 'No monitor runs of this version.')
        );
      }
    } catch (error) {
      this._details.replaceChildren(h('div', { class: 'mb-details-title' }, ref), actions, h('div', { class: 'mb-error' }, (error as Error).message));
    }
  }

  private _insert: InsertCell;
  private _loaded = false;
  private _stale = false;
  private _pending: number | undefined;
  private _refreshedAt = 0;
  private _entries: IEntry[] = [];
  private _versions = new Map<string, IVersion[]>();
  private _open = new Set<string>();
  private _selected: string | null = null;
  private _where = h('div', { class: 'mb-where' });
  private _filter = h('input', { class: 'mb-filter', type: 'search', placeholder: 'Filter names…', 'aria-label': 'Filter names' });
  private _list = h('ul', { class: 'mb-entries' });
  private _details = h('div', { class: 'mb-details' });
}
