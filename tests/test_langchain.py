"""Our LangChain adapters pass the `langchain-tests` standard suites for their types (a peer's tests)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from vectorstore.langchain import LatentEmbeddings, LatentRetriever


class TestLatentEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[LatentEmbeddings]:
        return LatentEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "all-MiniLM-L6-v2"}


class TestLatentEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[LatentEmbeddings]:
        return LatentEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {}


class TestLatentRetriever(RetrieversIntegrationTests):
    index_path: str = ""

    @pytest.fixture(autouse=True)
    def _index(self, small_index: Any) -> None:
        type(self).index_path = str(small_index.path)

    @property
    def retriever_constructor(self) -> type[LatentRetriever]:
        return LatentRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"index_path": self.index_path, "k": 4}

    @property
    def retriever_query_example(self) -> str:
        return "social workers' caseloads"


def test_retriever_documents_carry_citations(small_index: Any) -> None:
    docs = LatentRetriever(index=small_index, k=3, filters={"kinds": ["inspection"]}).invoke("management oversight")
    assert len(docs) == 3
    for d in docs:
        assert d.metadata["kind"] == "inspection" and d.metadata["page"] >= 1
        assert d.metadata["citation"].startswith(d.metadata["title"])
