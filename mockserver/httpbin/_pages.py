"""Text bodies for the fixed pages. Written for this project (httpbin's templates are not copied);
the literary passage is from Herman Melville's *Moby-Dick* (1851, public domain)."""

from __future__ import annotations

XML = """<?xml version='1.0' encoding='us-ascii'?>

<!--  A SAMPLE set of slides  -->

<slideshow
    title="Sample Slide Show"
    date="Date of publication"
    author="Yours Truly"
    >

    <!-- TITLE SLIDE -->
    <slide type="all">
      <title>Wake up to WonderWidgets!</title>
    </slide>

    <!-- OVERVIEW -->
    <slide type="all">
        <title>Overview</title>
        <item>Why <em>WonderWidgets</em> are great</item>
        <item/>
        <item>Who <em>buys</em> WonderWidgets</item>
    </slide>

</slideshow>
"""

HTML = """<!DOCTYPE html>
<html>
  <head>
  </head>
  <body>
      <h1>Herman Melville - Moby-Dick</h1>

      <div>
        <p>
          Call me Ishmael. Some years ago - never mind how long precisely - having little or
          no money in my purse, and nothing particular to interest me on shore, I thought I
          would sail about a little and see the watery part of the world. It is a way I have
          of driving off the spleen and regulating the circulation. Whenever I find myself
          growing grim about the mouth; whenever it is a damp, drizzly November in my soul;
          whenever I find myself involuntarily pausing before coffin warehouses, and bringing
          up the rear of every funeral I meet; and especially whenever my hypos get such an
          upper hand of me, that it requires a strong moral principle to prevent me from
          deliberately stepping into the street, and methodically knocking people's hats off -
          then, I account it high time to get to sea as soon as I can.
        </p>
      </div>
  </body>
</html>"""

DENIED = """
  +-----------------------------------+
  |   robots.txt asked you not to.    |
  |   You came anyway. Hello there.   |
  +-----------------------------------+
"""

UTF8_DEMO = """<h1>Unicode Demo</h1>

<pre>
UTF-8 encoded sample plain-text file
‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾

Mathematics:   ∮ E⋅da = Q,  n → ∞, ∑ f(i) = ∏ g(i), ∀x∈ℝ: ⌈x⌉ = −⌊−x⌋, α ∧ ¬β = ¬(¬α ∨ β)
Linguistics:   ði ıntəˈnæʃənəl fəˈnɛtık əsoʊsiˈeıʃn
Greek:         Σὲ γνωρίζω ἀπὸ τὴν κόψη τοῦ σπαθιοῦ τὴν τρομερή
Russian:       Зарегистрируйтесь сейчас на Десятую Международную Конференцию
Georgian:      გთხოვთ ახლავე გაიაროთ რეგისტრაცია Unicode-ის მეათე საერთაშორისო
Thai:          ๏ แผ่นดินฮั่นเสื่อมโทรมแสนสังเวช
Amharic:       ሰማይ አይታረስ ንጉሥ አይከሰስ።
Runes:         ᚻᛖ ᚳᚹᚫᚦ ᚦᚫᛏ ᚻᛖ ᛒᚢᛞᛖ ᚩᚾ ᚦᚫᛗ ᛚᚪᚾᛞᛖ ᚾᚩᚱᚦᚹᛖᚪᚱᛞᚢᛗ
Braille:       ⡌⠁⠧⠑ ⠼⠁⠒  ⡍⠜⠇⠑⠹⠰⠎ ⡣⠕⠌
Japanese:      いろはにほへと ちりぬるを
Chinese:       我能吞下玻璃而不伤身体。
Emoji:         🐳 ⛵ 🌊
Box drawing:   ╔══╦══╗  ┌──┬──┐
               ║  ║  ║  │  │  │
               ╚══╩══╝  └──┴──┘
</pre>
"""

FORM = """<!DOCTYPE html>
<html>
  <head>
  </head>
  <body>
  <!-- The pizza order form of the HTML5 spec's forms chapter -->
  <form method="post" action="/post">
   <p><label>Customer name: <input name="custname"></label></p>
   <p><label>Telephone: <input type=tel name="custtel"></label></p>
   <p><label>E-mail address: <input type=email name="custemail"></label></p>
   <fieldset>
    <legend> Pizza Size </legend>
    <p><label> <input type=radio name=size value="small"> Small </label></p>
    <p><label> <input type=radio name=size value="medium"> Medium </label></p>
    <p><label> <input type=radio name=size value="large"> Large </label></p>
   </fieldset>
   <fieldset>
    <legend> Pizza Toppings </legend>
    <p><label> <input type=checkbox name="topping" value="bacon"> Bacon </label></p>
    <p><label> <input type=checkbox name="topping" value="cheese"> Extra Cheese </label></p>
    <p><label> <input type=checkbox name="topping" value="onion"> Onion </label></p>
    <p><label> <input type=checkbox name="topping" value="mushroom"> Mushroom </label></p>
   </fieldset>
   <p><label>Preferred delivery time:
     <input type=time min="11:00" max="21:00" step="900" name="delivery"></label></p>
   <p><label>Delivery instructions: <textarea name="comments"></textarea></label></p>
   <p><button>Submit order</button></p>
  </form>
  </body>
</html>
"""

INDEX = """<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>hookwire mock server: httpbin</title></head>
<body>
<h1>hookwire mock server: httpbin endpoints</h1>
<p>An ASGI re-implementation of <a href="https://github.com/psf/httpbin">httpbin</a>'s API,
for tests. See docs/mockserver-httpbin.md in the hookwire repository.</p>
<ul>
<li>/get /post /put /patch /delete /anything</li>
<li>/status/{codes} /delay/{n} /stream/{n} /bytes/{n} /stream-bytes/{n} /drip /range/{n}</li>
<li>/redirect/{n} /relative-redirect/{n} /absolute-redirect/{n} /redirect-to</li>
<li>/cookies /cookies/set /cookies/delete</li>
<li>/basic-auth/{user}/{passwd} /hidden-basic-auth/{user}/{passwd} /bearer
 /digest-auth/{qop}/{user}/{passwd}[/{algorithm}[/{stale_after}]]</li>
<li>/headers /user-agent /ip /uuid /gzip /deflate /brotli /response-headers /base64/{value}</li>
<li>/json /xml /html /robots.txt /deny /encoding/utf8 /forms/post</li>
<li>/cache /cache/{n} /etag/{etag} /image /image/png /image/jpeg /image/webp /image/svg</li>
<li>/links/{n}/{offset} /sse /unstable /dump/request /hostname /trailers</li>
</ul>
</body>
</html>
"""
