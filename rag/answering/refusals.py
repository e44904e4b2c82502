"""What an answer says when the report does not answer the question, per question language.

One owner: the extractive answerer refuses with it, and the LLM is told to reply with exactly
this sentence (which is how its refusals are recognised).
"""

REFUSAL = {"zh": "报告中没有找到相关内容。", "en": "The report does not say."}
