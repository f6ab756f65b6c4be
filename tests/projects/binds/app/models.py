"""One model per database: users in the main one, what they did in ``audit``, page views in
``analytics``."""

from .extensions import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True, nullable=False)


class AuditEntry(db.Model):
    __bind_key__ = "audit"
    id = db.Column(db.Integer, primary_key=True)
    action = db.Column(db.String(40), nullable=False)
    user_id = db.Column(db.Integer, nullable=False, index=True)


class PageView(db.Model):
    __bind_key__ = "analytics"
    id = db.Column(db.Integer, primary_key=True)
    path = db.Column(db.String(200), nullable=False)
