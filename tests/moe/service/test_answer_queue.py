"""The line in front of the model: one answering, a bounded number waiting, the rest refused at once."""

import threading
import time

import pytest

from MoE.service import AnswerQueue, QueueFull


def test_one_answers_and_max_waiting_wait_then_full():
    line = AnswerQueue(max_waiting=2)
    tickets = [line.ticket() for _ in range(3)]   # one answering, two waiting
    assert [t.position for t in tickets] == [0, 1, 2]
    with pytest.raises(QueueFull, match="the line holds 2"):
        line.ticket()
    tickets[0].release()
    assert line.pending == 2
    line.ticket().release()


def test_turns_are_one_at_a_time():
    line, inside, most = AnswerQueue(max_waiting=8), [], []

    def work():
        with line.ticket():
            inside.append(1)
            most.append(len(inside))
            time.sleep(0.02)
            inside.pop()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == [1] * 6 and line.pending == 0


def test_a_ticket_never_used_gives_its_place_back():
    line = AnswerQueue(max_waiting=0)
    ticket = line.ticket()
    with pytest.raises(QueueFull):
        line.ticket()
    del ticket
    line.ticket().release()
    assert line.pending == 0
