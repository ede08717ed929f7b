"""One module per tab of the web app (layout and handlers); bot/app.py puts them side by side with the viewer."""

SORRY = "抱歉，系统暂时无法回答这个问题，请稍后再试。"
