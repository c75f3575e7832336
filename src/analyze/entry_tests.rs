//! Single-task entry points (`entry`): which scripts' coroutines run alone, and every doubt
//! that keeps a coroutine from counting as alone.

use super::entry::{Alone, in_single_task_script};
use super::test_context::with_context;
use crate::codemod::Registry;
use crate::parse::KindName;

/// Whether the `input()` call in `source` is in a single-task script's coroutine (or a
/// startup hook before it started anything).
fn alone(source: &str) -> bool {
    alone_as(source).is_some()
}

/// Why the `input()` call in `source` runs alone, if it does.
fn alone_as(source: &str) -> Option<Alone> {
    let registry = Registry::bundled().unwrap();
    with_context("cli.py", source, None, |file| {
        let call = file
            .nodes
            .calls
            .iter()
            .find(|c| {
                c.child(0)
                    .is_some_and(|f| &source[f.byte_range()] == "input")
            })
            .expect("an input() call");
        assert_eq!(call.kind_name(), "call");
        in_single_task_script(file, &registry, *call)
    })
}

const HEAD: &str = "import asyncio\n\n";

#[test]
fn the_coroutine_of_asyncio_run_and_those_it_awaits_run_alone() {
    let main = "async def main():\n    name = input()\n    print(name.upper())\n\n";
    assert!(alone(&format!(
        "{HEAD}{main}if __name__ == \"__main__\":\n    asyncio.run(main())\n"
    )));
    assert!(alone(&format!("{HEAD}{main}asyncio.run(main())\n")));
    assert!(alone(&format!(
        "{HEAD}{main}asyncio.get_event_loop().run_until_complete(main())\n"
    )));
    assert!(alone(&format!(
        "{HEAD}{main}loop = asyncio.new_event_loop()\nloop.run_until_complete(main())\n"
    )));
    assert!(alone(&format!(
        "from asyncio import run\n\n{main}run(main())\n"
    )));
    // Through awaited coroutines of the file, sleeps and synchronous helpers.
    assert!(alone(&format!(
        "{HEAD}def shout(s):\n    return s.upper()\n\nasync def ask():\n    return input()\n\n\
         async def main():\n    await asyncio.sleep(0)\n    print(shout(await ask()))\n\n\
         asyncio.run(main())\n"
    )));
}

#[test]
fn any_doubt_means_other_work_may_run() {
    let cases = [
        // No entry point: a module whose coroutine someone else runs.
        "async def main():\n    input()\n",
        // In a function, an entry call that uses a loop made before (tasks may wait on it).
        "async def main():\n    input()\n\ndef cli():\n    asyncio.get_event_loop().run_until_complete(main())\n",
        // Other tasks.
        "async def w():\n    pass\n\nasync def p():\n    input()\n\n\
         async def main():\n    await asyncio.gather(w(), p())\n\nasyncio.run(main())\n",
        "async def w():\n    pass\n\nasync def main():\n    t = asyncio.create_task(w())\n    input()\n    await t\n\nasyncio.run(main())\n",
        "async def w():\n    pass\n\nasync def main():\n    asyncio.get_running_loop().create_task(w())\n    input()\n\nasyncio.run(main())\n",
        "async def w():\n    pass\n\nasync def main():\n    async with asyncio.TaskGroup() as tg:\n        tg.create_task(w())\n        input()\n\nasyncio.run(main())\n",
        "async def main(loop):\n    server = await loop.create_server(object, '127.0.0.1', 0)\n    input()\n\nasyncio.run(main(None))\n",
        "async def main():\n    fut = asyncio.ensure_future(asyncio.sleep(1))\n    input()\n\nasyncio.run(main())\n",
        "async def main(xs):\n    await asyncio.wait(xs)\n    input()\n\nasyncio.run(main([]))\n",
        // A synchronous helper of the file that starts a task.
        "def start():\n    asyncio.get_running_loop().create_task(asyncio.sleep(1))\n\n\
         async def main():\n    start()\n    input()\n\nasyncio.run(main())\n",
        // Awaiting code of another module, or an async context manager: it may run tasks.
        "import bot\n\nasync def main():\n    await bot.start()\n    input()\n\nasyncio.run(main())\n",
        "import somelib\n\nasync def main():\n    async with somelib.Session() as s:\n        input()\n\nasyncio.run(main())\n",
        // The awaited coroutine is also run elsewhere, or passed as a value.
        "async def ask():\n    return input()\n\nasync def main():\n    await ask()\n\n\
         async def other():\n    await asyncio.gather(ask(), ask())\n\nasyncio.run(main())\n",
        "async def ask():\n    return input()\n\nasync def main():\n    await ask()\n\nhandlers = [ask]\nasyncio.run(main())\n",
        // `main` bound twice.
        "async def main():\n    input()\n\nmain = object()\nasyncio.run(main())\n",
        // A coroutine that is not reached from the entry point.
        "async def other():\n    input()\n\nasync def main():\n    pass\n\nasyncio.run(main())\n",
    ];
    for case in cases {
        assert!(!alone(&format!("{HEAD}{case}")), "{case}");
    }
}

#[test]
fn a_body_blanked_by_a_masked_parse_is_a_doubt() {
    let source = format!(
        "{HEAD}async def helper():\n    ...\n\nasync def main():\n    await helper()\n    input()\n\nasyncio.run(main())\n"
    );
    assert!(!alone(&source));
}

#[test]
fn before_the_first_suspension_of_asyncio_run_s_coroutine_nothing_else_runs() {
    // kuzyivan's create_admin.py: `input()` first, then an async session from another module.
    let admin = "from db import SessionLocal\n\nasync def main():\n    password = input()\n    \
                 async with SessionLocal() as session:\n        await session.commit()\n\n\
                 if __name__ == \"__main__\":\n    asyncio.run(main())\n";
    assert!(alone(&format!("{HEAD}{admin}")));
    let doubts = [
        // A suspension before it, or in the same loop (a later iteration runs after it).
        "import bot\n\nasync def main():\n    await bot.start()\n    input()\n\nasyncio.run(main())\n",
        "import bot\n\nasync def main():\n    while True:\n        input()\n        await bot.send()\n\nasyncio.run(main())\n",
        "import bot\n\nasync def main():\n    async for m in bot.stream():\n        input()\n\nasyncio.run(main())\n",
        // Work scheduled before it, directly or by a helper of the file.
        "import bot\n\nasync def main():\n    asyncio.ensure_future(bot.run())\n    input()\n    await bot.stop()\n\nasyncio.run(main())\n",
        "import bot\n\ndef start():\n    asyncio.get_running_loop().create_task(bot.run())\n\n\
         async def main():\n    start()\n    input()\n    await bot.stop()\n\nasyncio.run(main())\n",
        // A helper in the same loop schedules work before the next iteration.
        "def step():\n    asyncio.get_running_loop().create_task(asyncio.sleep(1))\n\n\
         async def main():\n    for _ in range(3):\n        input()\n        step()\n    \
         await asyncio.sleep(2)\n\nasyncio.run(main())\n",
        // Code of another module of the project runs first: what it starts is not read here.
        "from .bot import start\n\nasync def main():\n    start()\n    input()\n    \
         await asyncio.sleep(1)\n\nasyncio.run(main())\n",
        // A loop made before: tasks may wait on it already.
        "import bot\n\nasync def main():\n    input()\n    await bot.start()\n\n\
         asyncio.get_event_loop().run_until_complete(main())\n",
        // `main` also runs elsewhere.
        "import bot\n\nasync def main():\n    input()\n    await bot.start()\n\n\
         async def both():\n    await asyncio.gather(main(), bot.start())\n\nasyncio.run(main())\n",
        // In a coroutine `main` awaits after suspending.
        "import bot\n\nasync def ask():\n    return input()\n\n\
         async def main():\n    await bot.start()\n    await ask()\n\nasyncio.run(main())\n",
    ];
    for case in doubts {
        assert!(!alone(&format!("{HEAD}{case}")), "{case}");
    }
}

#[test]
fn asyncio_run_in_a_command_function_runs_its_coroutine_alone() {
    // A command-line tool's command: `asyncio.run` makes a new loop wherever it is.
    let tool = "async def read_row():\n    return input()\n\n\
                def cmd_status():\n    return asyncio.run(read_row())\n";
    assert_eq!(alone_as(&format!("{HEAD}{tool}")), Some(Alone::Script));
}

#[test]
fn awaits_of_quiet_libraries_start_nothing() {
    // kuzyivan's tariff_migrator.py: SQLAlchemy's async engine and sessions, before and after.
    let migrator = "from sqlalchemy.ext.asyncio import create_async_engine, async_sessionmaker\n\n\
                    async def main():\n    engine = create_async_engine(URL)\n    \
                    async with engine.begin() as conn:\n        await conn.run_sync(f)\n    \
                    Session = async_sessionmaker(engine)\n    async with Session() as session:\n        \
                    await session.execute(q)\n    input()\n    await engine.dispose()\n\n\
                    asyncio.run(main())\n";
    assert_eq!(alone_as(&format!("{HEAD}{migrator}")), Some(Alone::Script));
    // The same before the call, in `main` that later starts a task: alone at first.
    let first = "import aiohttp\n\nasync def main():\n    async with aiohttp.ClientSession() as s:\n        \
                 await s.get(u)\n    input()\n    asyncio.create_task(w())\n\nasync def w():\n    pass\n\nasyncio.run(main())\n";
    assert!(alone(&format!("{HEAD}{first}")));
    let doubts = [
        // An unknown library's await.
        "import somelib\n\nasync def main():\n    await somelib.fetch()\n    input()\n\nasyncio.run(main())\n",
        // A runner, even of a client library: aiohttp's web server.
        "from aiohttp import web\n\nasync def main():\n    await web.run_app(app)\n    input()\n\nasyncio.run(main())\n",
        // A task started before a quiet await.
        "import asyncpg\n\nasync def w():\n    pass\n\nasync def main():\n    asyncio.create_task(w())\n    \
         c = await asyncpg.connect()\n    input()\n\nasyncio.run(main())\n",
    ];
    for case in doubts {
        assert!(!alone(&format!("{HEAD}{case}")), "{case}");
    }
}

#[test]
fn framework_startup_hooks_run_alone_until_they_start_work() {
    let lifespan = "from contextlib import asynccontextmanager\nfrom fastapi import FastAPI\n\n\
                    @asynccontextmanager\nasync def lifespan(app):\n    input()\n    yield\n\n\
                    app = FastAPI(lifespan=lifespan)\n";
    assert!(matches!(alone_as(lifespan), Some(Alone::Hook(_))));
    // After `yield`: shutdown, while requests may still run.
    assert!(!alone(&lifespan.replace(
        "    input()\n    yield\n",
        "    yield\n    input()\n"
    )));
    // A task started before it.
    assert!(!alone(&lifespan.replace(
        "    input()\n",
        "    asyncio.create_task(app.run())\n    input()\n"
    )));
    let ptb = "from telegram.ext import Application\n\nasync def post_init(application):\n    input()\n\n\
               def main():\n    app = Application.builder().token(T).post_init(post_init).build()\n    \
               app.run_polling()\n";
    assert!(matches!(alone_as(ptb), Some(Alone::Hook(_))));
    let startup = "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.on_event(\"startup\")\n\
                   async def warm():\n    input()\n";
    assert!(matches!(alone_as(startup), Some(Alone::Hook(_))));
    assert!(!alone(&startup.replace("startup", "shutdown")));
    let discord = "import discord\n\nclass Bot(discord.Client):\n    async def setup_hook(self):\n        \
                   input()\n\n    async def on_message(self, m):\n        input()\n";
    assert!(matches!(alone_as(discord), Some(Alone::Hook(_))));
    // A `setup_hook` the bot also calls itself from an event handler runs among the events.
    let called = discord.replace(
        "    async def on_message(self, m):\n",
        "    async def on_ready(self):\n        await self.setup_hook()\n\n    async def on_message(self, m):\n",
    );
    assert!(!alone(&called));
    // A bot's handler is no hook; nor a hook also called from a handler.
    let handler = "from telegram.ext import Application\n\nasync def post_init(application):\n    pass\n\n\
                   async def on_text(update, context):\n    input()\n\n\
                   def main():\n    app = Application.builder().token(T).post_init(post_init).build()\n";
    assert!(!alone(handler));
    let reused = format!(
        "{ptb}\nasync def on_text(update, context):\n    await post_init(context.application)\n"
    );
    assert!(!alone(&reused));
}

#[test]
fn a_post_init_stays_alone_after_awaiting_its_applications_bot() {
    let ptb = "from telegram.ext import Application\n\n\
               async def post_init(application: Application):\n    \
               await application.bot.set_my_commands([(\"new\", \"Start\")])\n    input()\n\n\
               def main():\n    app = Application.builder().token(T).post_init(post_init).build()\n    \
               app.run_polling()\n";
    assert!(matches!(alone_as(ptb), Some(Alone::Hook(_))));
    // Anything else through the application may start work (its updater polls).
    let updater = ptb.replace(
        "application.bot.set_my_commands",
        "application.updater.start_polling",
    );
    assert!(!alone(&updater));
    // A bot that is not the hook's parameter, or the parameter rebound first.
    let other = ptb.replace("await application.bot", "await other.bot");
    assert!(!alone(&other));
    let rebound = ptb.replace(
        "    await application.bot",
        "    application = make()\n    await application.bot",
    );
    assert!(!alone(&rebound));
}
