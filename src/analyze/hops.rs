//! The diff a reviewer would write: at most one thread hop per line, and a check and the act
//! it guards in one hop. After every call has its own fix, the fixes that run code in a
//! worker thread ([`Fix::runs_in_thread`], [`Fix::moves`]) are looked at together:
//!
//! - an `if` whose condition and body both hop (`if os.path.exists(p): os.remove(p)`) moves
//!   into one nested function (`codemod::one_hop`); with `--unsafe-fixes`,
//!   `if not os.path.exists(d): os.makedirs(d)` becomes `os.makedirs(d, exist_ok=True)`;
//! - two hops on one line, or one nested in another, become one hop running the smallest
//!   expression holding them (`await asyncio.to_thread(lambda: ...)`), in the same order.
//!
//! Every finding of the merged code gets the merged fix. It is only as safe as the least
//! safe of them; when the code it moves besides them (an unknown call, shared state, a
//! thread-affine object, a loop-bound asyncio API) would make it less safe, or any finding
//! there has no fix the run applies, the fixes stay as they were.

use std::ops::Range;

use tree_sitter::Node;

use super::affinity::foreign_affine_use_in_block;
use super::cancellation::keep_cancellation;
use super::path_race::path_races;
use super::side_effects::moved_block_hazard;
use super::{FileContext, Finding};
use crate::codemod::one_hop::{makedirs_exist_ok, offload_check_then_act, offload_expression};
use crate::codemod::{AsyncLibrary, Judged, Registry, Site, check_then_act_base};
use crate::fix::{Applicability, Fix};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::ProjectLookup;
use crate::source::LineIndex;

/// Expression kinds the merged hop may run as a whole.
const EXPRESSIONS: &[&str] = &[
    "call",
    "attribute",
    "subscript",
    "binary_operator",
    "boolean_operator",
    "comparison_operator",
    "not_operator",
    "unary_operator",
    "conditional_expression",
    "parenthesized_expression",
    "tuple",
    "list",
    "set",
    "dictionary",
    "expression_list",
    // An f-string, or strings written one after the other: the message a reviewer builds in
    // one hop.
    "string",
    "concatenated_string",
];

/// Kinds between two hops and the expression holding them (`f(a=g(x))`'s argument list).
const WITHIN_EXPRESSIONS: &[&str] = &[
    "argument_list",
    "keyword_argument",
    "pair",
    "list_splat",
    "dictionary_splat",
    "slice",
    "interpolation",
];

/// What a finding's fix is to the merging.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A hop (or a moved block) the run applies.
    Member,
    /// A hop only suggested (a cheap system call): it may ride along.
    Passenger,
    /// Anything else: code holding it does not move.
    Stays,
}

fn role(finding: &Finding, threshold: Applicability) -> Role {
    match &finding.fix {
        Some(fix) if fix.runs_in_thread.is_some() || fix.moves.is_some() => {
            if fix.applicability >= threshold {
                Role::Member
            } else if fix.applicability == Applicability::DisplayOnly
                && fix.runs_in_thread.is_some()
            {
                Role::Passenger
            } else {
                Role::Stays
            }
        }
        _ => Role::Stays,
    }
}

/// Merge the thread hops of `findings` (one file's) where per-call fixes would put two on a
/// line or split a check from its act. In the project phase's speculative first pass nothing
/// is merged (its findings under different outcomes would mix; the settling analyzes the file
/// again when hops may merge: [`may_merge`]).
pub fn merge_hops(file: &FileContext, registry: &Registry, findings: &mut [Finding]) {
    if file
        .project
        .is_some_and(|p| matches!(p.lookup, ProjectLookup::Speculative(_)))
    {
        return;
    }
    let library = super::library::preferred_library(file);
    let threshold = if file.unsafe_fixes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let roles: Vec<Role> = findings.iter().map(|f| role(f, threshold)).collect();
    if roles.iter().filter(|r| **r == Role::Member).count() < 2 {
        return;
    }
    let root = file.parsed.tree.root_node();
    let call_of = |finding: &Finding| {
        root.descendant_for_byte_range(finding.range.start, finding.range.end)
            .filter(|n| n.byte_range() == finding.range)
    };
    let absolute_import = |qualified: &str| match file.project {
        Some(project) => crate::project::absolute_name(project.module, qualified),
        None => (!qualified.starts_with('.')).then(|| qualified.to_owned()),
    };
    let mut merger = Merger {
        file,
        registry,
        absolute_import: &absolute_import,
        library,
        threshold,
        roles,
        done: vec![false; findings.len()],
        helpers: Vec::new(),
    };
    // Check-then-act: each `if` whose condition holds a member, outermost first.
    let mut ifs: Vec<Node> = Vec::new();
    let mut seen_ifs = std::collections::HashSet::new();
    for (i, finding) in findings.iter().enumerate() {
        if merger.roles[i] != Role::Member {
            continue;
        }
        if let Some(statement) = call_of(finding).and_then(if_testing)
            && seen_ifs.insert(statement.id())
        {
            ifs.push(statement);
        }
    }
    ifs.sort_by_key(|s| s.start_byte());
    for statement in ifs {
        merger.check_then_act(findings, statement);
    }
    // Two hops on a line, or nested.
    let lines = LineIndex::new(file.text);
    let members: Vec<usize> = (0..findings.len())
        .filter(|&i| merger.roles[i] == Role::Member && !merger.done[i])
        .collect();
    let mut group_of: Vec<usize> = (0..findings.len()).collect();
    // The root of `i`'s group, every index on the way pointed at it (no recursion: a line
    // of many hops makes a long chain).
    fn find(group_of: &mut [usize], i: usize) -> usize {
        let mut root = i;
        while group_of[root] != root {
            root = group_of[root];
        }
        let mut at = i;
        while group_of[at] != root {
            let next = group_of[at];
            group_of[at] = root;
            at = next;
        }
        root
    }
    let mut pairs = nested_or_same_line(&members, findings, &lines);
    pairs.extend(same_message_pairs(&members, |i| call_of(&findings[i])));
    for (a, b) in pairs {
        let (ra, rb) = (&findings[a].range, &findings[b].range);
        let same_function = file.index.function_at(ra.start) == file.index.function_at(rb.start);
        // Two findings of one chain (`smtplib.LMTP(p).noop()`) share their hop already.
        let hop = |i: usize| {
            findings[i]
                .fix
                .as_ref()
                .and_then(|f| f.runs_in_thread.clone())
        };
        let shared = hop(a).is_some() && hop(a) == hop(b);
        if same_function && !shared {
            let (x, y) = (find(&mut group_of, a), find(&mut group_of, b));
            group_of[x] = y;
        }
    }
    // The groups in the order of their first member.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_at: std::collections::HashMap<usize, usize> = Default::default();
    for &i in &members {
        let root = find(&mut group_of, i);
        let place = *group_at.entry(root).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[place].push(i);
    }
    for group in groups.into_iter().filter(|g| g.len() > 1) {
        let nodes: Vec<Node> = group
            .iter()
            .filter_map(|&i| thread_node(root, &findings[i]))
            .collect();
        if nodes.len() != group.len() {
            continue;
        }
        if let Some(expression) = holding_expression(&nodes) {
            merger.one_expression(findings, expression);
        }
    }
}

/// A statement's text with its own indentation removed from every line: the same code at
/// two depths reads the same.
fn statement_text(text: &str, statement: Node) -> String {
    let depth = statement.start_position().column;
    text[statement.byte_range()]
        .lines()
        .map(|line| {
            let indent = line.len() - line.trim_start().len();
            &line[indent.min(depth)..]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The pairs of `members` (finding indices) whose calls are in one message over several lines
/// (strings written one after the other, or one triple-quoted f-string): their hops may merge
/// like hops on one line. Found by grouping the members by their message, not by a look at
/// every pair.
fn same_message_pairs<'t>(
    members: &[usize],
    call_of: impl Fn(usize) -> Option<Node<'t>>,
) -> Vec<(usize, usize)> {
    let mut by_message: std::collections::HashMap<usize, Vec<usize>> =
        std::collections::HashMap::new();
    for &i in members {
        if let Some(message) = call_of(i).and_then(message_of) {
            by_message.entry(message).or_default().push(i);
        }
    }
    let mut pairs = Vec::new();
    for group in by_message.values() {
        for (n, &a) in group.iter().enumerate() {
            pairs.extend(group[n + 1..].iter().map(|&b| (a, b)));
        }
    }
    pairs
}

/// The outermost string (or strings written one after the other) the expression holding
/// `node` is part of, by its node id.
fn message_of(node: Node) -> Option<usize> {
    let mut outermost = None;
    let mut current = node;
    while let Some(parent) = current.parent() {
        let kind = parent.kind_name();
        if !EXPRESSIONS.contains(&kind) && !WITHIN_EXPRESSIONS.contains(&kind) {
            break;
        }
        if matches!(kind, "string" | "concatenated_string") {
            outermost = Some(parent.id());
        }
        current = parent;
    }
    outermost
}

/// The pairs of `members` (finding indices) whose ranges nest or start on one line, each
/// `(earlier, later)` in the order of `members`: found from the ranges sorted by start (the
/// ones still open, the ones on the line), not by a look at every pair.
fn nested_or_same_line(
    members: &[usize],
    findings: &[Finding],
    lines: &LineIndex,
) -> Vec<(usize, usize)> {
    let order_of: std::collections::HashMap<usize, usize> =
        members.iter().enumerate().map(|(n, &i)| (i, n)).collect();
    let mut sorted = members.to_vec();
    sorted.sort_by_key(|&i| (findings[i].range.start, order_of[&i]));
    let mut pairs = std::collections::BTreeSet::new();
    let mut pair = |x: usize, y: usize| {
        let (a, b) = if order_of[&x] < order_of[&y] {
            (x, y)
        } else {
            (y, x)
        };
        pairs.insert((order_of[&a], order_of[&b]));
    };
    // Nested: the ranges started before this one and not ended before it, checked one by one.
    let mut open: Vec<usize> = Vec::new();
    // On one line: the ranges starting on the current line.
    let mut line: Vec<usize> = Vec::new();
    let mut line_number = usize::MAX;
    for &b in &sorted {
        let rb = &findings[b].range;
        open.retain(|&a| findings[a].range.end >= rb.start);
        for &a in &open {
            let ra = &findings[a].range;
            if contains(ra, rb) || contains(rb, ra) {
                pair(a, b);
            }
        }
        open.push(b);
        let number = lines.line_of(rb.start);
        if number != line_number {
            line.clear();
            line_number = number;
        }
        for &a in &line {
            pair(a, b);
        }
        line.push(b);
    }
    pairs
        .into_iter()
        .map(|(a, b)| (members[a], members[b]))
        .collect()
}

/// Whether `outer` holds all of `inner`.
fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// The node a member's fix runs in a worker thread (the call, or the chain around it).
fn thread_node<'t>(root: Node<'t>, finding: &Finding) -> Option<Node<'t>> {
    let fix = finding.fix.as_ref()?;
    let range = fix.runs_in_thread.clone()?;
    root.descendant_for_byte_range(range.start, range.end)
        .filter(|n| n.byte_range() == range)
}

/// The `if` statement whose condition holds `call` (not through a nested scope).
fn if_testing(call: Node) -> Option<Node> {
    let mut current = call;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "if_statement" => {
                let condition = parent.field(Field::Condition)?;
                return (condition.id() == current.id()).then_some(parent);
            }
            kind if EXPRESSIONS.contains(&kind) || WITHIN_EXPRESSIONS.contains(&kind) => {}
            _ => return None,
        }
        current = parent;
    }
    None
}

/// The smallest expression holding every node of `nodes`, within their statement.
fn holding_expression<'t>(nodes: &[Node<'t>]) -> Option<Node<'t>> {
    let start = nodes.iter().map(|n| n.start_byte()).min()?;
    let end = nodes.iter().map(|n| n.end_byte()).max()?;
    let mut node = *nodes.first()?;
    while !(node.start_byte() <= start && end <= node.end_byte()) {
        node = node.parent()?;
    }
    loop {
        let kind = node.kind_name();
        if EXPRESSIONS.contains(&kind) {
            // A message over several lines moves with its parentheses: `lambda: (` then the
            // lines as they were.
            if matches!(kind, "string" | "concatenated_string")
                && let Some(parent) = node.parent()
                && parent.kind_name() == "parenthesized_expression"
            {
                return Some(parent);
            }
            return Some(node);
        }
        if !WITHIN_EXPRESSIONS.contains(&kind) {
            return None;
        }
        node = node.parent()?;
    }
}

/// A merged fix, its title, and whether its own caveat is the known difference it was made
/// for (`exist_ok=True`), so that it may be less safe than its members.
struct Merged {
    fix: Fix,
    title: String,
    exempt: bool,
}

struct Merger<'a, 'f> {
    file: &'a FileContext<'f>,
    registry: &'a Registry,
    /// A module name as an absolute import (`.helpers` → `app.helpers`), for the idioms.
    absolute_import: &'a dyn Fn(&str) -> Option<String>,
    library: Option<AsyncLibrary>,
    threshold: Applicability,
    roles: Vec<Role>,
    done: Vec<bool>,
    /// The helpers named so far, by coroutine: two checks in one coroutine get two names.
    helpers: Vec<(Option<crate::semantic::ScopeId>, String, String)>,
}

impl<'a, 'f> Merger<'a, 'f> {
    /// The findings inside `range`, when each is a member or a passenger not merged yet.
    fn riders(&self, findings: &[Finding], range: &Range<usize>) -> Option<Vec<usize>> {
        let inside: Vec<usize> = (0..findings.len())
            .filter(|&i| contains(range, &findings[i].range))
            .collect();
        inside
            .iter()
            .all(|&i| self.roles[i] != Role::Stays && !self.done[i])
            .then_some(inside)
    }

    /// A fix site at `call`.
    fn site(&self, call: Node<'f>) -> Option<Site<'a>> {
        Some(Site {
            text: self.file.text,
            line_ending: self.file.line_ending,
            tree: &self.file.parsed.tree,
            index: self.file.index,
            call,
            callee: call.field(Field::Function)?,
            qualified: "",
            library: self.library,
            target_version: self.file.target_version,
            http_client: self.file.http_client,
            codemod_calls: &[],
            offload_idioms: self.registry.offload_idioms(),
            thread_safe: self.registry.thread_safe(),
            absolute_import: self.absolute_import,
            consumed_in_thread: false,
            memo: &self.file.strategy_memo,
            line_limit: &self.file.line_limit,
        })
    }

    /// What other fixes already judged of the moved code: each rider's own move.
    fn judged(findings: &[Finding], riders: &[usize]) -> Vec<Judged> {
        riders
            .iter()
            .filter_map(|&i| {
                let finding = &findings[i];
                let fix = finding.fix.as_ref()?;
                Some(match (&fix.moves, &fix.runs_in_thread) {
                    (Some(moved), _) => Judged {
                        range: moved.clone(),
                        whole: true,
                    },
                    (None, Some(run)) => Judged {
                        range: run.clone(),
                        whole: *run != finding.range,
                    },
                    (None, None) => return None,
                })
            })
            .collect()
    }

    /// The lowest applicability of the members among `riders`, and their caveats.
    fn least_safe(&self, findings: &[Finding], riders: &[usize]) -> (Applicability, Vec<String>) {
        let mut least = Applicability::Safe;
        let mut caveats: Vec<String> = Vec::new();
        for &i in riders.iter().filter(|&&i| self.roles[i] == Role::Member) {
            let fix = findings[i].fix.as_ref().expect("a member has a fix");
            least = least.min(fix.applicability);
            if let Some(caveat) = &fix.caveat
                && !caveats.contains(caveat)
            {
                caveats.push(caveat.clone());
            }
        }
        (least, caveats)
    }

    /// The merged fix, when it is as safe as its members and moves nothing that must stay:
    /// given to every rider.
    fn settle(
        &mut self,
        findings: &mut [Finding],
        riders: &[usize],
        site: &Site,
        moved: Node,
        merged: Merged,
    ) {
        let Merged { fix, title, exempt } = merged;
        let (least, mut caveats) = self.least_safe(findings, riders);
        let Ok(mut fix) = keep_cancellation(site, fix) else {
            return;
        };
        // A check-then-act on one path moved whole is still a race between two worker
        // threads running it at once: the merged hop is unsafe, saying so; `exist_ok=True`
        // (the exempt rewrite) tolerates it. Any other hazard keeps the per-call hops.
        let races = self.path_races_within(moved);
        let hazard = moved_block_hazard(self.file, self.registry, &fix, None)
            .filter(|h| !races.iter().any(|(what, _)| *what == h.what));
        // What the per-call hops said of a race (a new `await` between check and act) is not
        // true of one hop running both.
        for split in races.iter().filter_map(|(_, split)| split.as_ref()) {
            caveats.retain(|c| !c.ends_with(split.as_str()));
        }
        if !exempt && let Some((first, _)) = races.first() {
            fix.applicability = fix.applicability.min(Applicability::Unsafe);
            fix.caveat = Some(match fix.caveat.take() {
                Some(own) => format!("{first}; {own}"),
                None => first.clone(),
            });
        }
        if hazard.is_some()
            || (!exempt && fix.applicability < least)
            || fix.applicability < self.threshold
            || self.file.parsed.touches_error(&moved.byte_range())
        {
            return;
        }
        let Some(function) = self.file.index.async_function_at(moved.start_byte()) else {
            return;
        };
        if foreign_affine_use_in_block(self.file, self.registry, function, moved).is_some() {
            return;
        }
        fix.applicability = fix.applicability.min(least);
        if let Some(own) = fix.caveat.take() {
            caveats.insert(0, own);
        }
        fix.caveat = (!caveats.is_empty()).then(|| caveats.join("; "));
        fix.title = title;
        for &i in riders {
            findings[i].fix = Some(fix.clone());
            findings[i].no_fix_reason = None;
            self.done[i] = true;
        }
    }

    /// The check-then-acts on one path that `moved` holds whole (`path_race.rs`): what each
    /// means for code moving both, and what a hop of the check or the act alone says of it.
    fn path_races_within(&self, moved: Node) -> Vec<(String, Option<String>)> {
        let Some(data) = self
            .registry
            .codemods()
            .iter()
            .find_map(|c| c.moved_code.as_ref())
        else {
            return Vec::new();
        };
        let range = moved.byte_range();
        let inside = |r: &Range<usize>| range.start <= r.start && r.end <= range.end;
        path_races(self.file, data)
            .iter()
            .filter(|race| inside(&race.check) && inside(&race.act))
            .map(|race| (race.what.clone(), race.split.clone()))
            .collect()
    }

    /// `if <check>: <act>` in one hop, when its condition and its branches hop.
    fn check_then_act(&mut self, findings: &mut [Finding], statement: Node) {
        let range = statement.byte_range();
        let Some(riders) = self.riders(findings, &range) else {
            return;
        };
        let condition = statement.field(Field::Condition);
        let in_node = |i: &usize, node: Option<Node>| {
            node.is_some_and(|n| contains(&n.byte_range(), &findings[*i].range))
        };
        let members = |node: Option<Node>| -> Vec<usize> {
            riders
                .iter()
                .copied()
                .filter(|i| self.roles[*i] == Role::Member && in_node(i, node))
                .collect()
        };
        let checks = members(condition);
        let acts: Vec<usize> = riders
            .iter()
            .copied()
            .filter(|i| self.roles[*i] == Role::Member && !checks.contains(i))
            .collect();
        let (Some(&check), Some(&act)) = (checks.first(), acts.first()) else {
            return;
        };
        let root = self.file.parsed.tree.root_node();
        let call_at = |i: usize| {
            let r = &findings[i].range;
            root.descendant_for_byte_range(r.start, r.end)
                .filter(|n| n.byte_range() == *r && n.kind_name() == "call")
        };
        let (Some(check_call), Some(act_call)) = (call_at(check), call_at(act)) else {
            return;
        };
        let Some(site) = self.site(check_call) else {
            return;
        };
        if self.file.unsafe_fixes
            && let Some(makedirs) = self.makedirs_after_exists(statement, check_call, act_call)
            && checks.len() == 1
            && acts.len() == 1
            && let Ok(proposal) = makedirs_exist_ok(&site, statement, makedirs)
        {
            let title = format!(
                "Create the directory in one worker thread, with `exist_ok=True` instead of the \
                 check: `await {}(...)`",
                proposal.replacement
            );
            let merged = Merged {
                fix: proposal.fix,
                title,
                exempt: true,
            };
            self.settle(findings, &riders, &site, statement, merged);
            return;
        }
        let act_calls: Vec<Node> = acts.iter().filter_map(|&i| call_at(i)).collect();
        let Some(base) = check_then_act_base(self.file.text, statement, check_call, &act_calls)
        else {
            return;
        };
        let function = self.file.index.async_function_at(statement.start_byte());
        // The same check and act again (a `finally` repeating the cleanup) is the same helper,
        // defined again under its name; another body gets the next free number.
        let body = statement_text(self.file.text, statement);
        let name = (1..)
            .map(|n| match n {
                1 => base.clone(),
                n => format!("{base}_{n}"),
            })
            .find(|name| {
                self.helpers
                    .iter()
                    .all(|(f, used, text)| *f != function || used != name || *text == body)
            })
            .expect("some name is free");
        let judged = Self::judged(findings, &riders);
        let (least, _) = self.least_safe(findings, &riders);
        let Ok(proposal) = offload_check_then_act(&site, least, statement, &name, &judged) else {
            return;
        };
        self.helpers.push((function, name, body));
        let title = format!(
            "Run the check and what it guards in one worker thread: `await {}(...)`",
            proposal.replacement
        );
        let merged = Merged {
            fix: proposal.fix,
            title,
            exempt: false,
        };
        self.settle(findings, &riders, &site, statement, merged);
    }

    /// The `os.makedirs(d)` call of `if not os.path.exists(d): os.makedirs(d)`: no `else`, the
    /// call the branch's only statement, the same plain path in both, no `exist_ok` yet.
    fn makedirs_after_exists<'t>(
        &self,
        statement: Node<'t>,
        check: Node<'t>,
        act: Node<'t>,
    ) -> Option<Node<'t>> {
        let text = self.file.text;
        let root = self.file.parsed.tree.root_node();
        let condition = statement.field(Field::Condition)?;
        let body = statement.field(Field::Consequence)?;
        if statement.child_by_field_name("alternative").is_some()
            || condition.kind_name() != "not_operator"
            || condition.child_by_field_name("argument").map(|a| a.id()) != Some(check.id())
            || body.named_child_count() != 1
            || body.named_child(0)?.kind_name() != "expression_statement"
            || body.named_child(0)?.named_child(0).map(|c| c.id()) != Some(act.id())
        {
            return None;
        }
        let name = |call: Node| {
            self.file
                .index
                .callable_name(call.field(Field::Function)?, root, text)
        };
        if name(check)? != "os.path.exists" || name(act)? != "os.makedirs" {
            return None;
        }
        let arguments = |call: Node<'t>| -> Option<Vec<Node<'t>>> {
            let list = call.field(Field::Arguments)?;
            let mut cursor = list.walk();
            Some(
                list.named_children(&mut cursor)
                    .filter(|n| n.kind_name() != "comment")
                    .collect(),
            )
        };
        let (checked, made) = (arguments(check)?, arguments(act)?);
        let [path] = checked.as_slice() else {
            return None;
        };
        let first = made.first()?;
        let plain = |n: Node| {
            let mut stack = vec![n];
            let mut cursor = n.walk();
            while let Some(inner) = stack.pop() {
                if !matches!(inner.kind_name(), "identifier" | "attribute" | "string")
                    && !inner.kind_name().starts_with("string_")
                {
                    return false;
                }
                stack.extend(inner.named_children(&mut cursor));
            }
            true
        };
        let spelled = |n: &Node| text[n.byte_range()].split_whitespace().collect::<String>();
        let keyword = |n: &Node, word: &str| {
            n.kind_name() == "keyword_argument"
                && n.field(Field::Name)
                    .is_some_and(|k| &text[k.byte_range()] == word)
        };
        (plain(*path)
            && spelled(path) == spelled(first)
            && first.kind_name() != "keyword_argument"
            && !made.iter().any(|a| {
                keyword(a, "exist_ok") || matches!(a.kind_name(), "list_splat" | "dictionary_splat")
            }))
        .then_some(act)
    }

    /// Two hops on one line (or nested) in one hop running `expression`.
    fn one_expression(&mut self, findings: &mut [Finding], expression: Node) {
        let Some(riders) = self.riders(findings, &expression.byte_range()) else {
            return;
        };
        let root = self.file.parsed.tree.root_node();
        let Some(first_call) = riders.iter().find_map(|&i| {
            let r = &findings[i].range;
            root.descendant_for_byte_range(r.start, r.end)
                .filter(|n| n.byte_range() == *r && n.kind_name() == "call")
        }) else {
            return;
        };
        let Some(site) = self.site(first_call) else {
            return;
        };
        let judged = Self::judged(findings, &riders);
        let (least, _) = self.least_safe(findings, &riders);
        let Ok(proposal) = offload_expression(&site, least, expression, &judged) else {
            return;
        };
        let title = format!(
            "Run the expression's blocking calls in one worker thread: `await {}(lambda: ...)`",
            proposal.replacement
        );
        let merged = Merged {
            fix: proposal.fix,
            title,
            exempt: false,
        };
        self.settle(findings, &riders, &site, expression, merged);
    }
}

/// Whether a speculative first pass's findings, once settled, may hold hops to merge: two
/// thread hops within three lines of each other. The settling then analyzes the file again
/// with the settled calls, which merges them.
pub fn may_merge(text: &str, findings: &[Finding]) -> bool {
    let mut starts: Vec<usize> = findings
        .iter()
        .filter(|f| {
            f.fix
                .as_ref()
                .is_some_and(|fix| fix.runs_in_thread.is_some() || fix.moves.is_some())
        })
        .map(|f| f.range.start)
        .collect();
    if starts.len() < 2 {
        return false;
    }
    starts.sort_unstable();
    let lines = LineIndex::new(text);
    starts
        .windows(2)
        .any(|pair| lines.line_of(pair[1]) - lines.line_of(pair[0]) <= 3)
}
