//! The project view of each workspace root, kept warm: the first time a buffer under a root
//! is analysed, the project phase of `unfreeze check ROOT` runs over the root on a thread of
//! its own (its configuration, its result cache), and the server keeps answering meanwhile
//! (the buffers are analysed alone until then). When the view arrives (through the inbox,
//! which wakes the server) every open buffer under the root is analysed again with it. A save
//! of a file under the root (or a change the editor's file watcher reports) runs the phase
//! again; a save during a run runs it once more after it.

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::thread;

use super::analysis::project_settings;
use super::inbox::Arrival;
use crate::codemod::Registry;
use crate::run::WarmProject;

/// The workspace roots and their project views.
pub struct Projects {
    roots: Vec<PathBuf>,
    /// Per root whose project phase ran, its view (`None`: it has none).
    views: HashMap<PathBuf, Option<Box<WarmProject>>>,
    /// Per root whose project phase is running, whether a save came meanwhile.
    running: HashMap<PathBuf, bool>,
    /// The editor's settings, as `check`'s flags.
    flags: Vec<String>,
    bundled: Arc<Registry>,
    wake: Sender<Arrival>,
}

impl Projects {
    pub fn new(bundled: &Registry, wake: Sender<Arrival>) -> Projects {
        Projects {
            roots: Vec::new(),
            views: HashMap::new(),
            running: HashMap::new(),
            flags: Vec::new(),
            bundled: Arc::new(bundled.clone()),
            wake,
        }
    }

    /// The workspace roots `initialize` names: its `workspaceFolders`, else its `rootUri`,
    /// else its `rootPath`.
    pub fn set_roots(&mut self, params: &serde_json::Value) {
        let folders: Vec<PathBuf> = params["workspaceFolders"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|folder| super::documents::path_of(folder["uri"].as_str()?))
            .collect();
        self.roots = if !folders.is_empty() {
            folders
        } else if let Some(root) = params["rootUri"]
            .as_str()
            .and_then(super::documents::path_of)
        {
            vec![root]
        } else {
            params["rootPath"]
                .as_str()
                .map(|root| vec![PathBuf::from(root)])
                .unwrap_or_default()
        };
    }

    /// The innermost workspace root holding `path`.
    pub fn root_of(&self, path: &Path) -> Option<&PathBuf> {
        self.roots
            .iter()
            .filter(|root| path.starts_with(root))
            .max_by_key(|root| root.as_os_str().len())
    }

    /// The project view `path` is analysed with, when its root's is ready; the first buffer
    /// under a root starts its project phase.
    pub fn view(&mut self, path: &Path) -> Option<&mut WarmProject> {
        let root = self.root_of(path)?.clone();
        if !self.views.contains_key(&root) && !self.running.contains_key(&root) {
            self.start(root.clone());
        }
        self.views
            .get_mut(&root)?
            .as_deref_mut()
            .filter(|view| view.contains(path))
    }

    /// A file under a root was saved (or changed on disk): the root's project phase runs
    /// again, when it ran or runs.
    pub fn saved(&mut self, path: &Path) {
        let Some(root) = self.root_of(path).cloned() else {
            return;
        };
        match self.running.get_mut(&root) {
            Some(again) => *again = true,
            None if self.views.contains_key(&root) => self.start(root),
            None => {}
        }
    }

    /// The editor's settings changed (`check`'s `flags`): every view is built again with
    /// them (the old one serving until then).
    pub fn set_flags(&mut self, flags: Vec<String>) {
        if flags == self.flags {
            return;
        }
        self.flags = flags;
        let roots: Vec<PathBuf> = self.views.keys().cloned().collect();
        for again in self.running.values_mut() {
            *again = true;
        }
        for root in roots {
            if !self.running.contains_key(&root) {
                self.start(root);
            }
        }
    }

    /// The view of `root` arrived: kept (a run asked for meanwhile starts).
    pub fn arrived(&mut self, root: PathBuf, view: Option<Box<WarmProject>>) {
        let again = self.running.remove(&root).unwrap_or(false);
        self.views.insert(root.clone(), view);
        if again {
            self.start(root);
        }
    }

    /// Run the project phase of `root` in the background.
    fn start(&mut self, root: PathBuf) {
        self.running.insert(root.clone(), false);
        let bundled = Arc::clone(&self.bundled);
        let wake = self.wake.clone();
        let flags = self.flags.clone();
        thread::spawn(move || {
            // A panic of the run leaves the root without a view (its buffers analysed alone),
            // not waiting for one forever.
            let view = panic::catch_unwind(AssertUnwindSafe(|| {
                project_settings(&root, &bundled, &flags)
                    .ok()
                    .and_then(|(settings, registry)| WarmProject::build(&settings, &registry))
            }))
            .ok()
            .flatten();
            // The server is gone: nothing to tell.
            let _ = wake.send(Arrival::Project(root, view.map(Box::new)));
        });
    }
}
