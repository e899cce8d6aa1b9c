"""Counting legal time limits on the Chinese working-day calendar (DOMAIN.md §5).

Holiday facts used below, as chinesecalendar 1.11 records them for 2026:

- 春节: rest days Sun 02-15 to Mon 02-23 (holidays 02-16..02-20 and 02-23, with the weekend
  02-21/22 between); make-up working Saturdays 02-14 and 02-28.
- 中秋: Fri 09-25 is a rest day.
- 国庆: rest days Thu 10-01 to Wed 10-07; make-up working days Sun 09-20 and Sat 10-10.
- chinesecalendar knows 2004-2026 and raises NotImplementedError for 2027.
"""

from datetime import date, datetime, timedelta, timezone

import pytest

from engine.calendar import SHANGHAI, Deadline, Duration, DurationError, Unit, WorkingCalendar


def beijing(year, month, day, hour=9, minute=0):
    """A moment on the Beijing clock, as a mediation centre's clerk would see it."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def due_date(deadline: Deadline) -> date:
    return deadline.due.astimezone(SHANGHAI).date()


@pytest.fixture
def calendar():
    return WorkingCalendar()


# --- The worked examples of DOMAIN.md §5 ------------------------------------------------------


def test_fifteen_working_days_from_28_september_skip_national_day_and_end_23_october(calendar):
    deadline = calendar.add(beijing(2026, 9, 28), Duration(15, Unit.WORKDAY))

    assert due_date(deadline) == date(2026, 10, 23)
    assert deadline.provisional is False


def test_sixty_days_from_3_august_land_on_2_october_and_roll_to_8_october(calendar):
    # 08-03 + 60 days is Fri 10-02, inside 国庆; 10-03..10-07 are rest days too.
    deadline = calendar.add(beijing(2026, 8, 3), Duration(60, Unit.DAY))

    assert due_date(deadline) == date(2026, 10, 8)
    assert deadline.provisional is False


def test_five_working_days_from_11_february_count_the_make_up_saturday_and_end_25_february(calendar):
    # 02-12 Thu, 02-13 Fri, 02-14 Sat (调休 make-up), then 春节 rest until 02-23, 02-24 Tue, 02-25 Wed.
    deadline = calendar.add(beijing(2026, 2, 11), Duration(5, Unit.WORKDAY))

    assert due_date(deadline) == date(2026, 2, 25)


# --- Holidays ---------------------------------------------------------------------------------


def test_calendar_days_across_national_day_are_not_deducted(calendar):
    # 10 days from Mon 09-28 end on Thu 10-08, the first working day after 国庆: nothing rolls.
    deadline = calendar.add(beijing(2026, 9, 28), Duration(10, Unit.DAY))

    assert due_date(deadline) == date(2026, 10, 8)


def test_working_days_across_national_day_skip_the_holiday_and_count_the_make_up_saturday(calendar):
    # 09-29, 09-30, [10-01..10-07 rest], 10-08, 10-09, 10-10 (Sat, make-up), 10-12..10-16.
    deadline = calendar.add(beijing(2026, 9, 28), Duration(10, Unit.WORKDAY))

    assert due_date(deadline) == date(2026, 10, 16)


def test_a_calendar_day_period_ending_inside_spring_festival_rolls_to_the_first_day_back(calendar):
    # 10 days from Tue 02-10 end on Fri 02-20 (春节); 02-21/22 weekend, 02-23 holiday, 02-24 back.
    deadline = calendar.add(beijing(2026, 2, 10), Duration(10, Unit.DAY))

    assert due_date(deadline) == date(2026, 2, 24)


def test_working_days_across_spring_festival_count_both_make_up_saturdays(calendar):
    # 02-12, 02-13, 02-14 (Sat, make-up), [rest to 02-23], 02-24..02-27, 02-28 (Sat, make-up).
    deadline = calendar.add(beijing(2026, 2, 11), Duration(8, Unit.WORKDAY))

    assert due_date(deadline) == date(2026, 2, 28)


def test_a_make_up_saturday_is_a_working_day(calendar):
    assert calendar.is_workday(date(2026, 10, 10)) is True
    assert calendar.is_workday(date(2026, 10, 3)) is False

    # One working day from Friday 10-09 is the make-up Saturday, not Monday.
    deadline = calendar.add(beijing(2026, 10, 9), Duration(1, Unit.WORKDAY))
    assert due_date(deadline) == date(2026, 10, 10)


# --- Calendar days versus working days --------------------------------------------------------


def test_ten_days_and_ten_working_days_from_the_same_monday_end_on_different_dates(calendar):
    start = beijing(2026, 3, 2)

    by_days = calendar.add(start, Duration(10, Unit.DAY))
    by_working_days = calendar.add(start, Duration(10, Unit.WORKDAY))

    assert due_date(by_days) == date(2026, 3, 12)
    assert due_date(by_working_days) == date(2026, 3, 16)


def test_a_calendar_day_period_ending_on_a_sunday_ends_on_monday(calendar):
    # Mon 03-23 + 6 days is Sun 03-29.
    deadline = calendar.add(beijing(2026, 3, 23), Duration(6, Unit.DAY))

    assert due_date(deadline) == date(2026, 3, 30)


def test_a_case_registered_on_a_rest_day_starts_counting_the_next_day(calendar):
    # Registered on Sat 10-03 during 国庆: the next working day is Thu 10-08.
    start = beijing(2026, 10, 3, hour=15)

    assert due_date(calendar.add(start, Duration(1, Unit.WORKDAY))) == date(2026, 10, 8)
    assert due_date(calendar.add(start, Duration(2, Unit.DAY))) == date(2026, 10, 8)
    # An ordinary weekend: one working day from Saturday 03-07 is Monday 03-09.
    assert due_date(calendar.add(beijing(2026, 3, 7), Duration(1, Unit.WORKDAY))) == date(2026, 3, 9)


def test_days_are_counted_on_the_beijing_date_even_when_the_start_is_given_in_utc(calendar):
    # 2026-09-27 17:30 UTC is 09-28 01:30 in Beijing, so this is the first worked example again.
    start = datetime(2026, 9, 27, 17, 30, tzinfo=timezone.utc)

    deadline = calendar.add(start, Duration(15, Unit.WORKDAY))

    assert due_date(deadline) == date(2026, 10, 23)


def test_a_day_limit_is_due_at_the_last_second_of_its_day_in_beijing_returned_in_utc(calendar):
    deadline = calendar.add(beijing(2026, 3, 2, hour=16, minute=45), Duration(3, Unit.DAY))

    assert deadline.due.tzinfo is not None
    assert deadline.due.utcoffset() == timedelta(0)
    assert deadline.due == datetime(2026, 3, 5, 23, 59, 59, tzinfo=SHANGHAI)
    assert deadline.due == datetime(2026, 3, 5, 15, 59, 59, tzinfo=timezone.utc)

    working = calendar.add(beijing(2026, 3, 2), Duration(3, Unit.WORKDAY))
    assert working.due == datetime(2026, 3, 5, 15, 59, 59, tzinfo=timezone.utc)


# --- Hours and minutes ------------------------------------------------------------------------


def test_a_72_hour_protection_limit_runs_straight_through_national_day(calendar):
    start = beijing(2026, 9, 30, hour=20)

    deadline = calendar.add(start, Duration(72, Unit.HOUR))

    assert deadline.due == beijing(2026, 10, 3, hour=20)
    assert deadline.due.utcoffset() == timedelta(0)
    assert deadline.provisional is False


def test_a_15_minute_response_limit_crosses_midnight_into_an_unknown_year_without_fuss(calendar):
    start = beijing(2026, 12, 31, hour=23, minute=50)

    deadline = calendar.add(start, Duration(15, Unit.MINUTE))

    assert deadline.due == beijing(2027, 1, 1, hour=0, minute=5)
    assert deadline.provisional is False


# --- A year chinesecalendar does not know yet (2027) ------------------------------------------


def test_a_deadline_reaching_into_2027_falls_back_to_weekdays_and_is_provisional(calendar):
    # From Mon 2026-12-28: 12-29, 12-30, 12-31, then 2027-01-01 (a Friday, assumed working), 01-04.
    deadline = calendar.add(beijing(2026, 12, 28), Duration(5, Unit.WORKDAY))

    assert due_date(deadline) == date(2027, 1, 4)
    assert deadline.provisional is True
    assert calendar.is_known(date(2027, 1, 1)) is False
    assert calendar.is_workday(date(2027, 1, 1)) is True  # the Monday-Friday guess


def test_a_calendar_day_period_ending_on_an_unknown_weekend_rolls_provisionally(calendar):
    # 2026-12-28 + 5 days is Sat 2027-01-02; the weekday guess moves it to Mon 01-04.
    deadline = calendar.add(beijing(2026, 12, 28), Duration(5, Unit.DAY))

    assert due_date(deadline) == date(2027, 1, 4)
    assert deadline.provisional is True


def test_once_the_2027_notice_is_entered_the_same_deadline_is_recomputed_for_real():
    start, limit = beijing(2026, 12, 28), Duration(5, Unit.WORKDAY)
    # What an administrator enters from the (hypothetical) 2027 notice: New Year's Day off.
    new_year = {
        date(2027, 1, 1): False,
        date(2027, 1, 2): False,
        date(2027, 1, 3): False,
        date(2027, 1, 4): True,
        date(2027, 1, 5): True,
    }
    before = WorkingCalendar().add(start, limit)

    after = WorkingCalendar(new_year).add(start, limit)

    assert before.provisional is True
    assert after.provisional is False
    # 01-01 is now a rest day, so the fifth working day moves from 01-04 to 01-05.
    assert due_date(after) == date(2027, 1, 5)


def test_an_override_table_that_misses_a_consulted_day_leaves_the_deadline_provisional():
    partial = WorkingCalendar({date(2027, 1, 1): False})

    deadline = partial.add(beijing(2026, 12, 28), Duration(5, Unit.WORKDAY))

    # 01-04 and 01-05 were still guessed.
    assert due_date(deadline) == date(2027, 1, 5)
    assert deadline.provisional is True


def test_a_deadline_inside_a_known_year_is_never_provisional_even_late_in_december(calendar):
    deadline = calendar.add(beijing(2026, 12, 21), Duration(5, Unit.WORKDAY))

    assert due_date(deadline) == date(2026, 12, 28)
    assert deadline.provisional is False


def test_covers_tells_whether_every_beijing_date_of_a_span_is_known():
    calendar = WorkingCalendar({date(2027, 1, 1): False, date(2027, 1, 2): False})

    assert calendar.covers(beijing(2026, 12, 1), beijing(2026, 12, 31, hour=23)) is True
    assert calendar.covers(beijing(2026, 12, 30), beijing(2027, 1, 2)) is True
    assert calendar.covers(beijing(2026, 12, 30), beijing(2027, 1, 3)) is False
    # 2027-01-02 16:30 UTC is already 01-03 in Beijing.
    assert calendar.covers(beijing(2026, 12, 30), datetime(2027, 1, 2, 16, 30, tzinfo=timezone.utc)) is False


def test_is_known_for_library_years_overrides_and_unknown_years():
    calendar = WorkingCalendar({date(2027, 10, 1): False})

    assert calendar.is_known(date(2026, 6, 1)) is True
    assert calendar.is_known(date(2027, 10, 1)) is True
    assert calendar.is_known(date(2027, 10, 8)) is False


# --- The override table -----------------------------------------------------------------------


def test_an_override_beats_the_library_for_a_known_year():
    # A county declares Fri 2026-10-09 a rest day and asks staff to work on Sat 2026-10-03.
    calendar = WorkingCalendar({date(2026, 10, 9): False, date(2026, 10, 3): True})

    assert calendar.is_workday(date(2026, 10, 9)) is False
    assert calendar.is_workday(date(2026, 10, 3)) is True
    # One working day from Thu 10-08 now skips 10-09 and lands on the make-up Saturday.
    assert due_date(calendar.add(beijing(2026, 10, 8), Duration(1, Unit.WORKDAY))) == date(2026, 10, 10)
    # Two days from Thu 10-01 now end on the (overridden) working Saturday 10-03.
    assert due_date(calendar.add(beijing(2026, 10, 1), Duration(2, Unit.DAY))) == date(2026, 10, 3)


def test_an_override_table_is_read_on_every_call_even_after_the_library_was_asked(calendar):
    # The library lookup is cached; a calendar with overrides must still see its own table.
    assert calendar.is_workday(date(2026, 11, 2)) is True
    assert WorkingCalendar({date(2026, 11, 2): False}).is_workday(date(2026, 11, 2)) is False
    assert calendar.is_workday(date(2026, 11, 2)) is True


# --- Reading a time limit ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("30 日", Duration(30, Unit.DAY)),
        ("15工作日", Duration(15, Unit.WORKDAY)),
        ("72 小时", Duration(72, Unit.HOUR)),
        (" 15 分钟 ", Duration(15, Unit.MINUTE)),
    ],
)
def test_a_time_limit_is_read_from_a_process_definition(text, expected):
    assert Duration.parse(text) == expected


@pytest.mark.parametrize("text", ["30 days", "-1 日", "1.5 日", "", "日", "30", "30 天", "30 日 日"])
def test_a_malformed_time_limit_is_refused_with_a_message_saying_what_is_accepted(text):
    with pytest.raises(DurationError) as error:
        Duration.parse(text)

    assert repr(text) in str(error.value)
    assert "工作日" in str(error.value)


def test_a_time_limit_is_written_back_in_the_form_it_is_read():
    assert str(Duration(30, Unit.DAY)) == "30 日"
    assert Duration.parse(str(Duration(15, Unit.WORKDAY))) == Duration(15, Unit.WORKDAY)


def test_a_negative_or_fractional_amount_is_refused_when_built_directly():
    with pytest.raises(DurationError):
        Duration(-1, Unit.DAY)
    with pytest.raises(DurationError):
        Duration(1.5, Unit.DAY)
    with pytest.raises(DurationError):
        Duration(3, "周")


def test_duration_errors_are_value_errors():
    assert issubclass(DurationError, ValueError)


# --- Misuse -----------------------------------------------------------------------------------


def test_a_start_without_a_time_zone_is_refused(calendar):
    naive = datetime(2026, 9, 28, 9, 0)

    with pytest.raises(ValueError, match="time zone"):
        calendar.add(naive, Duration(15, Unit.WORKDAY))
    with pytest.raises(ValueError):
        calendar.add(naive, Duration(72, Unit.HOUR))
    with pytest.raises(ValueError):
        calendar.warning(naive, Duration(30, Unit.DAY), 0.8)
    with pytest.raises(ValueError):
        calendar.covers(naive, beijing(2026, 10, 1))


# --- The warning moment (临期) ----------------------------------------------------------------


def test_a_task_is_due_for_a_warning_after_its_share_of_the_limit(calendar):
    start = beijing(2026, 3, 2, hour=8)

    warning = calendar.warning(start, Duration(10, Unit.HOUR), 0.8)

    assert warning.due == beijing(2026, 3, 2, hour=16)
    assert warning.due.utcoffset() == timedelta(0)
    assert warning.provisional is False


def test_the_warning_of_a_day_limit_is_a_share_of_the_elapsed_time_to_its_deadline(calendar):
    start = beijing(2026, 3, 2, hour=0)
    limit = Duration(1, Unit.DAY)  # due Tue 03-03 23:59:59, 47h59m59s after the start

    warning = calendar.warning(start, limit, 0.5)

    deadline = calendar.add(start, limit)
    assert warning.due == start + (deadline.due - start) / 2
    assert start < warning.due < deadline.due


def test_the_warning_of_a_provisional_deadline_is_provisional_too(calendar):
    start, limit = beijing(2026, 12, 28), Duration(5, Unit.WORKDAY)

    assert calendar.warning(start, limit, 0.8).provisional is True
    assert calendar.warning(beijing(2026, 12, 1), limit, 0.8).provisional is False


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.2, float("nan")])
def test_a_warning_share_outside_zero_and_one_is_refused(calendar, share):
    with pytest.raises(ValueError, match="share"):
        calendar.warning(beijing(2026, 3, 2), Duration(30, Unit.DAY), share)
