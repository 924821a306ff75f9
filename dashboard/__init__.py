"""The managers' dashboard: what staff ask the assistant, what is overdue, and the commissioner's figures.

Server-rendered pages (FastAPI and Jinja2) with charts drawn by plotly.js, served from the plotly package so
nothing is fetched from the internet. Marking a logged query is the only change it makes to the database.
"""
