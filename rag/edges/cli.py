"""The `rag` command line: ingest, search, ask, chat, serve, eval, documents.

Heavy imports (torch, faiss, gradio) happen inside the commands so `rag --help` is instant.
Library errors become one line on stderr and exit status 1, here and nowhere else.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError

from ingest.errors import BadInput, RagError
from rag.config import MAX_TOP_K, describe_invalid

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.engine import Engine
    from rag.records import Answer



def _positive_k(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= number <= MAX_TOP_K:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_TOP_K} (got {number})")
    return number


def _workers(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number: give how many server processes, e.g. 2") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (got {number}): 1 serves from this process, N from N processes")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Ask a report questions, in Chinese or English, and get cited answers."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--index", type=Path, metavar="DIR", help="index directory (default: RAG_INDEX_DIR)")
        sub.add_argument(
            "--store",
            metavar="STORE",
            help="where the chunks live (default: RAG_STORE): empty = the index directory, PATH.db = Milvus Lite, "
            "http(s)://host:port = a Milvus server (RAG_STORE_TOKEN)",
        )
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        return sub

    ingest = command("ingest", "Build or update an index from files and directories (default: the bundled report).")
    ingest.add_argument("paths", nargs="*", type=Path, metavar="PATH", help=".txt .md .html .pdf .docx files or folders")
    ingest.add_argument("--prune", action="store_true", help="drop indexed documents that are not among PATHs")
    ingest.add_argument("--rebuild", action="store_true", help="ignore the existing index and build anew")

    search = command("search", "Show the passages that best match a query.")
    search.add_argument("query")
    search.add_argument("--k", "--top-k", dest="k", type=_positive_k, default=5, help="number of passages (default 5)")
    search.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")

    ask = command("ask", "Answer a question with citations.")
    ask.add_argument("question", nargs="?", help="the question (or use --jsonl)")
    ask.add_argument("--top-k", type=_positive_k, default=None, help="passages to read (default RAG_TOP_K=5)")
    ask.add_argument("--jsonl", metavar="FILE", help="answer one question per line of FILE ('-' for stdin)")
    ask.add_argument("--answerer", choices=("auto", "extractive", "llm"), default="auto")

    chat = command("chat", "Chat with the report in the terminal (follow-up questions use the conversation).")
    chat.add_argument("--top-k", type=_positive_k, default=None)

    serve = command("serve", "Start the HTTP API and the chat page (builds the index of the bundled report if none).")
    serve.add_argument("--host", default=None, help="default 127.0.0.1 (RAG_HOST)")
    serve.add_argument("--port", type=int, default=None, help="default 8000 (RAG_PORT)")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="server processes sharing the port, each loading the model and index (~0.8-1.1 GB each); "
        "default 1 (RAG_WORKERS)",
    )

    evaluate = command("eval", "Measure retrieval and answer quality on labelled questions.")
    evaluate.add_argument("--dataset", type=Path, help="JSONL question set (default: the bundled report set)")
    evaluate.add_argument("--squad", type=Path, metavar="CORPUS", help="a SQuAD-format benchmark file as corpus")
    evaluate.add_argument("--questions", type=Path, metavar="FILE", help="parallel SQuAD file with the questions")
    evaluate.add_argument("--ablation", action="store_true", help="dense-only, BM25-only and hybrid side by side")
    evaluate.add_argument("--html", type=Path, metavar="PATH", help="write a self-contained HTML report")
    evaluate.add_argument("--out", type=Path, metavar="PATH", help="write all metrics and failures as JSON")
    evaluate.add_argument("--limit", type=int, default=None, help="evaluate only the first N questions")
    evaluate.add_argument("--check", action="store_true", help="exit 1 when below the thresholds in eval/thresholds.json")

    command("documents", "List the documents in the index.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:  # a bad RAG_* variable
        print(f"error: {describe_invalid(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`rag ask ... | head`): not an error worth a traceback.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _engine(args: argparse.Namespace) -> Engine:
    from rag.engine import Engine

    return Engine(_settings(args), index_dir=args.index, progress=note)


def _settings(args: argparse.Namespace) -> Settings:
    """RAG_* settings, with `--store` over RAG_STORE."""
    from rag.config import Settings

    settings = Settings()
    store = getattr(args, "store", None)
    return settings if store is None else settings.model_copy(update={"store": store})


def note(message: str) -> None:
    """One-time set-up news (building the model, exporting it to ONNX), on stderr."""
    print(message, file=sys.stderr, flush=True)


def _run(args: argparse.Namespace) -> int:
    handlers = {
        "ingest": _ingest,
        "search": _search,
        "ask": _ask,
        "chat": _chat,
        "serve": _serve,
        "eval": _eval,
        "documents": _documents,
    }
    return handlers[args.command](args)


def _print_json(data: Any, out: TextIO | None = None) -> None:
    out = out or sys.stdout  # looked up per call, so redirected stdout is honoured
    out.write(json.dumps(data, ensure_ascii=False) + "\n")
    out.flush()


def _ingest(args: argparse.Namespace) -> int:
    engine = _engine(args)
    report = engine.ingest(args.paths or None, prune=args.prune, rebuild=args.rebuild, progress=not args.json)
    if args.json:
        _print_json(report.as_dict())
        return 0
    state = "updated" if report.changed else "already current"
    print(
        f"index {report.index_dir}: {state}; {report.documents} documents, {report.chunks} chunks "
        f"(added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"removed {len(report.removed)}) in {report.seconds:.1f} s"
    )
    return 0


def _search(args: argparse.Namespace) -> int:
    retrieval = _engine(args).search(args.query, k=args.k, mode=args.mode)
    if args.json:
        _print_json(retrieval.as_dict())
        return 0
    for hit in retrieval.hits:
        spans = ", ".join(f"{a}-{b}" for a, b in hit.chunk.spans)
        print(f"[{hit.rank}] score {hit.score:.4f}  {hit.source} chars {spans}")
        print("    " + hit.chunk.text.replace("\n", " ")[:300])
    return 0


def _use_llm(choice: str) -> bool | None:
    return {"auto": None, "extractive": False, "llm": True}[choice]


def _format_answer(answer: Answer) -> str:
    lines = [answer.answer, ""]
    if answer.notice:
        lines += [f"({answer.notice})", ""]
    for citation in answer.citations:
        spans = ", ".join(f"{a}-{b}" for a, b in citation.spans)
        lines.append(f"[{citation.n}] {citation.source} chars {spans}: {citation.sentence}")
    if not answer.found and answer.related:
        lines.append("Related passages:" if answer.language == "en" else "相关段落：")
        for hit in answer.related:
            lines.append(f"  - {hit.source} chars {hit.chunk.start}-{hit.chunk.end}: {hit.chunk.text[:80]}…")
    return "\n".join(lines).rstrip()


def _ask(args: argparse.Namespace) -> int:
    if args.jsonl is None and not args.question:
        raise BadInput('give a question (rag ask "which province hosts 2027?") or --jsonl FILE')
    engine = _engine(args)
    if args.jsonl is not None:
        for question in _questions_from(args.jsonl):
            try:
                answer = engine.answer(question, top_k=args.top_k, use_llm=_use_llm(args.answerer))
                _print_json(answer.as_dict())
            except BadInput as exc:
                _print_json({"question": question, "error": str(exc)})
        return 0
    answer = engine.answer(args.question, top_k=args.top_k, use_llm=_use_llm(args.answerer))
    if args.json:
        _print_json(answer.as_dict())
    else:
        print(_format_answer(answer))
    return 0


def _questions_from(source: str) -> Iterator[str]:
    if source == "-":
        lines: Any = sys.stdin
    else:
        path = Path(source)
        if not path.is_file():
            raise BadInput(f"no such file: {source} (give a file with one question per line, or - for stdin)")
        lines = path.open(encoding="utf-8")
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput(f"line {number} is not valid JSON ({exc.msg}); give plain text or {{\"question\": ...}}") from None
            question = item.get("question") if isinstance(item, dict) else None
            if not isinstance(question, str):
                raise BadInput(f'line {number} has no "question" string field')
            yield question
        else:
            yield line


def _chat(args: argparse.Namespace) -> int:
    """Questions from stdin, one a line, answered with the conversation so far; --json: one
    Answer object per line and no prompts."""
    from rag.answering.conversation import Turn

    engine = _engine(args)
    history: list[Turn] = []
    if not args.json:
        print("Ask about the report (Chinese or English). Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = input("" if args.json else "> ").strip()
        except EOFError:
            if not args.json:
                print()
            return 0
        if not question:
            return 0
        try:
            answer = engine.answer(question, history=history, top_k=args.top_k)
        except BadInput as exc:
            if args.json:
                _print_json({"question": question, "error": str(exc)})
            else:
                print(f"error: {exc}")
            continue
        if args.json:
            _print_json(answer.as_dict())
        else:
            print(_format_answer(answer) + "\n")
        history.append(Turn(question, answer.answer))


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    host, port = args.host or settings.host, args.port or settings.port
    workers = settings.workers if args.workers is None else args.workers
    if workers == 1:
        from rag.edges.server import serve

        return serve(settings, index_dir=args.index, host=host, port=port, progress=note)
    from rag.edges.workers import serve_workers

    return serve_workers(settings, index_dir=args.index, host=host, port=port, workers=workers, progress=note)


def _eval(args: argparse.Namespace) -> int:
    from eval.runner import run_eval

    return run_eval(_engine(args), **eval_arguments(args))


def eval_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """`rag eval`'s flags as eval.runner.run_eval's keyword arguments."""
    return {
        "dataset": args.dataset,
        "squad": args.squad,
        "questions": args.questions,
        "ablation": args.ablation,
        "out": args.out,
        "html": args.html,
        "limit": args.limit,
        "check": args.check,
        "as_json": args.json,
    }


def _documents(args: argparse.Namespace) -> int:
    documents = _engine(args).documents()
    if args.json:
        _print_json({"documents": documents})
        return 0
    for doc in documents:
        print(f"{doc['doc_id']}  {doc['source']}  {doc['chunks']} chunks  sha256 {doc['content_hash'][:12]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
