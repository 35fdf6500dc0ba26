/**
 * The modelbook JupyterLab plugin: the registry sidebar and the command that inserts a
 * ``%modelbook`` cell into the active notebook. The MIME renderer lives in ./mime.
 */

import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { showErrorMessage } from '@jupyterlab/apputils';
import { ICodeCellModel } from '@jupyterlab/cells';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { RegistrySidebar } from './sidebar';
import { MIME_TYPE } from './views';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
<path class="jp-icon3" fill="#616161" d="M4 3h11l5 5v13H4zm2 2v14h12V9h-4V5zm2 7h8v2H8zm0 4h8v2H8z"/></svg>`;

export const modelbookIcon = new LabIcon({ name: 'modelbook:registry', svgstr: ICON_SVG });

export const COMMAND_INSERT = 'modelbook:insert-cell';
export const COMMAND_REFRESH = 'modelbook:refresh-registry';

/** Code that mentions modelbook (API, magics) in the source. */
const USES_MODELBOOK = /modelbook|%register\b|%monitor\b|\bmb\./;

/** Whether a finished cell may have changed the registry: it used modelbook or showed one of
 * its results (every result, widget outputs included, carries our MIME type). */
function touchesRegistry(cell: ICodeCellModel): boolean {
  if (USES_MODELBOOK.test(cell.sharedModel.getSource())) {
    return true;
  }
  const outputs = cell.outputs;
  for (let i = 0; i < outputs.length; i++) {
    if (MIME_TYPE in outputs.get(i).data) {
      return true;
    }
  }
  return false;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'modelbook:sidebar',
  description: 'Browse the modelbook registry and insert %modelbook cells.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILabShell],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, labShell: ILabShell | null) => {
    app.commands.addCommand(COMMAND_INSERT, {
      label: 'Insert a %modelbook cell',
      execute: args => {
        const code = String(args.code ?? '');
        const panel = tracker.currentWidget;
        if (!panel) {
          void showErrorMessage('No notebook open', `Open a notebook to insert:\n${code}`);
          return;
        }
        const notebook = panel.content;
        const active = notebook.activeCell;
        if (!active || active.model.sharedModel.getSource().trim() !== '') {
          NotebookActions.insertBelow(notebook);
        }
        notebook.activeCell?.model.sharedModel.setSource(code);
        app.shell.activateById(panel.id);
      }
    });

    const sidebar = new RegistrySidebar(code => void app.commands.execute(COMMAND_INSERT, { code }));
    sidebar.title.icon = modelbookIcon;
    // A finished cell that used modelbook may have changed the registry: refresh soon after
    // (debounced, so "run all" costs one reload), or when the sidebar is next shown.
    NotebookActions.executed.connect((_, { cell }) => {
      if (cell.model.type === 'code' && touchesRegistry(cell.model as ICodeCellModel)) {
        sidebar.changed();
      }
    });
    app.commands.addCommand(COMMAND_REFRESH, {
      label: 'Refresh the modelbook registry',
      execute: () => sidebar.refresh()
    });
    if (labShell) {
      labShell.add(sidebar, 'left', { rank: 600 });
    } else {
      app.shell.add(sidebar, 'left', { rank: 600 });
    }
  }
};

export default plugin;
