"""Error pages in Chinese, and engine errors mapped to HTTP statuses."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import Forbidden, NotFound, ProcessError

MESSAGES = {
    400: ("请求无效", "请求内容不完整或格式不正确。"),
    403: ("无权操作", "您没有办理此事项的权限。"),
    404: ("未找到", "案件或任务不存在，或不在您的管辖范围内。"),
    405: ("请求无效", "不支持这种访问方式。"),
    409: ("办理冲突", "该任务已被他人办理或已撤回。"),
    500: ("系统错误", "处理时发生错误，本次操作未保存。请稍后重试或联系管理员。"),
}


def error_page(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, ("错误", "处理时发生错误。"))
    return render_template("error.html", status=status, title=title, message=message or default), status


API_PREFIX = "/api/"
API_PROBLEMS = {400: "validation", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
                409: "conflict", 413: "payload-too-large", 415: "unsupported-media-type", 429: "too-many-requests",
                500: "server-error"}


def _api_problem(status: int):
    """Under /api/ every error is RFC 9457 problem JSON (web/api/problems.py), never an HTML page."""
    if not request.path.startswith(API_PREFIX):
        return None
    from .api.problems import problem

    name = API_PROBLEMS.get(status, "server-error")
    return problem(name, status=status if status in API_PROBLEMS else 500)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(_exc):
        return error_page(400, "页面已过期或缺少安全校验信息，请刷新页面后重新提交。")

    @app.errorhandler(NotFound)
    def engine_not_found(_exc):
        # Same page as a missing id, so a case outside one's jurisdiction cannot be told apart.
        return error_page(404)

    @app.errorhandler(Forbidden)
    def engine_forbidden(_exc):
        return error_page(403)

    @app.errorhandler(ProcessError)
    def process_failed(exc: ProcessError):
        app.logger.error("process error: %s", exc)
        where = f"（环节 {exc.element_id}）" if exc.element_id else ""
        return error_page(500, f"流程定义执行出错{where}，本次办理未保存，案件保持原状。请联系流程设计员。")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        api = _api_problem(exc.code or 500)
        if api is not None:
            if exc.code == 405 and exc.get_response().headers.get("Allow"):
                api.headers["Allow"] = exc.get_response().headers["Allow"]
            if exc.code == 429 and getattr(exc, "retry_after", None):
                api.headers["Retry-After"] = str(exc.retry_after)
            return api
        if exc.code in MESSAGES:
            return error_page(exc.code)
        return exc


def register_api_fallback(app: Flask) -> None:
    """An unexpected failure under /api/ still answers problem JSON (after logging it)."""

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc
        app.logger.exception("unhandled error on %s", request.path)
        api = _api_problem(500)
        return api if api is not None else error_page(500)
