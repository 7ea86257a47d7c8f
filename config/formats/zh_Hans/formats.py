"""Simplified Chinese number formats: Django's own group no digits (THOUSAND_SEPARATOR ""), so tonnes
and counts read 5388813; financial and statistical tables in China group by three with a comma, as
the money figures here already do. The dates and the rest stay Django's."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
