//! Single-task code found through library awaits and framework startup hooks: a call where
//! nothing else can run on the loop yet keeps its finding with no fix and says why; a bot's
//! handler, a coroutine after `create_task`, after a runner or after an unknown library await
//! keeps its fix.

mod common;

use common::{project, unfreeze_in};

/// `check` on one file, then `fix` on it: (check's output, the file after the fix).
fn check_and_fix(source: &str) -> (String, String) {
    let dir = project(&[("app.py", source.as_bytes())]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "app.py"]);
    assert!(check.stdout.contains("ASYNC250"), "{}", check.show());
    unfreeze_in(
        dir.path(),
        // `input()`'s fix is unsafe (Ctrl+C): the probe moves only with --unsafe-fixes.
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--isolated",
            "--no-cache",
            "app.py",
        ],
    );
    let fixed = std::fs::read_to_string(dir.path().join("app.py")).unwrap();
    (check.stdout, fixed)
}

fn assert_no_fix(source: &str, reason: &str) {
    let (check, fixed) = check_and_fix(source);
    assert!(check.contains(reason), "{check}");
    assert_eq!(fixed, source, "the call stays where it is");
}

fn assert_fixed(source: &str) {
    let (check, fixed) = check_and_fix(source);
    assert!(!check.contains("no fix"), "{check}");
    assert!(fixed.contains("to_thread(input"), "{fixed}");
}

const HOOK_REASON: &str = "nothing else runs on the event loop yet: ";

#[test]
fn a_script_after_awaits_of_an_async_database_client_gets_no_fix() {
    let script = "import asyncio\nfrom sqlalchemy.ext.asyncio import create_async_engine\n\n\
                  async def main():\n    engine = create_async_engine('sqlite+aiosqlite://')\n    \
                  async with engine.begin() as conn:\n        await conn.run_sync(print)\n    \
                  name = input()\n    await engine.dispose()\n    print(name)\n\n\
                  asyncio.run(main())\n";
    assert_no_fix(
        script,
        "no fix: `input()` in a script where nothing else runs on the event loop",
    );
}

#[test]
fn an_unknown_library_await_or_a_task_before_keeps_the_fix() {
    assert_fixed(
        "import asyncio\nimport somelib\n\nasync def main():\n    await somelib.fetch()\n    \
         name = input()\n    print(name)\n\nasyncio.run(main())\n",
    );
    assert_fixed(
        "import asyncio\n\nasync def tick():\n    await asyncio.sleep(1)\n\n\
         async def main():\n    t = asyncio.create_task(tick())\n    name = input()\n    \
         await t\n    print(name)\n\nasyncio.run(main())\n",
    );
    // A runner started first (`start_polling` keeps the loop full of handlers).
    assert_fixed(
        "import asyncio\nfrom aiogram import Dispatcher\n\ndp = Dispatcher()\n\n\
         async def main():\n    dp.start_polling(bot)\n    name = input()\n    print(name)\n\n\
         asyncio.run(main())\n",
    );
}

#[test]
fn a_fastapi_lifespan_before_its_yield_gets_no_fix_with_the_hook_named() {
    let app = "from contextlib import asynccontextmanager\nfrom fastapi import FastAPI\n\n\
               @asynccontextmanager\nasync def lifespan(app):\n    name = input()\n    yield\n    \
               print(name)\n\napp = FastAPI(lifespan=lifespan)\n";
    assert_no_fix(
        app,
        "it runs in the app's lifespan before its `yield`, which the server finishes before it \
         serves requests",
    );
    assert!(check_and_fix(app).0.contains(HOOK_REASON));
    // After `yield` (shutdown) the fix stays.
    assert_fixed(&app.replace(
        "    name = input()\n    yield\n    print(name)\n",
        "    yield\n    name = input()\n    print(name)\n",
    ));
}

#[test]
fn python_telegram_bot_post_init_gets_no_fix_but_a_handler_keeps_it() {
    let bot = "from telegram.ext import Application\n\nasync def post_init(application):\n    \
               application.bot_data['name'] = input()\n\n\
               async def on_text(update, context):\n    await update.message.reply_text(input())\n\n\
               def main():\n    app = Application.builder().token('t').post_init(post_init).build()\n    \
               app.run_polling()\n";
    let (check, fixed) = check_and_fix(bot);
    assert!(
        check.contains("it is python-telegram-bot's `post_init`"),
        "{check}"
    );
    assert!(fixed.contains("bot_data['name'] = input()"), "{fixed}");
    assert!(
        fixed.contains("to_thread(input"),
        "the handler's call moves: {fixed}"
    );
}

#[test]
fn discord_setup_hook_gets_no_fix_but_an_event_handler_keeps_it() {
    let bot = "import discord\n\nclass Bot(discord.Client):\n    async def setup_hook(self):\n        \
               self.prefix = input()\n\n    async def on_message(self, message):\n        \
               await message.channel.send(input())\n";
    let (check, fixed) = check_and_fix(bot);
    assert!(check.contains("it is discord.py's `setup_hook`"), "{check}");
    assert!(fixed.contains("self.prefix = input()"), "{fixed}");
    assert!(
        fixed.contains("to_thread(input"),
        "the handler's call moves: {fixed}"
    );
}

#[test]
fn a_hook_registered_in_a_synchronous_function_is_read_in_a_project() {
    // `main`'s body, where the hook is registered, must not be left out of the parse.
    let bot = "from telegram.ext import Application\n\nasync def post_init(application):\n    \
               application.bot_data['name'] = input()\n\n\
               def main():\n    app = Application.builder().token('t').post_init(post_init).build()\n    \
               app.run_polling()\n";
    assert_no_fix(bot, "it is python-telegram-bot's `post_init`");
}
